"""Writers for every published format, all reading items and writing atomically."""

from regiofeed.publish.atomic import write_if_changed
from regiofeed.publish.context import PublishContext, PublishSettings
from regiofeed.publish.registry import FORMATS, Format, PublishReport, publish_all

__all__ = [
    "FORMATS",
    "Format",
    "PublishContext",
    "PublishReport",
    "PublishSettings",
    "publish_all",
    "write_if_changed",
]
