"""Writers for every published format, all reading items and writing atomically."""
