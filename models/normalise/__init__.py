"""Normalisers every room shares: German dates, text and HTML clean-up, places, canonical URLs."""
