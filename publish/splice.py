"""Feeds built from per-item fragments: each entry is serialised once a run, then spliced."""

from __future__ import annotations

from collections.abc import Callable

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.spill import spill_of


def spliced(
    ctx: PublishContext,
    key: str,
    items: list[Item],
    render: Callable[[list[Item]], bytes],
    tag: bytes,
    parent: bytes,
) -> bytes:
    """Return the file ``render(items)`` writes, rendering only the entries not made before.

    ``render(some)`` must write the whole file: the feed's own elements, then one ``<tag>``
    element per item, in order, as the last children of the ``<parent>`` element. It is called
    once per file with the items whose entries no earlier file of this run held (often none);
    their bytes are cut out and kept for the run (``publish.spill``, by item id), and the file is
    put together from the head and tail it wrote around them and the kept entries of
    ``items``. Pretty-printed XML indents an entry by its depth only, and text inside never
    holds a raw ``<``, so an entry's bytes are the same in every feed that carries it: the
    result is byte for byte what ``render(items)`` writes, at the cost of one entry per item
    and run.
    """
    kept = spill_of(ctx.memo, key)
    missing = [item for item in items if item["id"] not in kept.where]
    xml = render(missing)
    head, entries, tail = split_entries(xml, tag, parent)
    if len(entries) != len(missing):
        raise ValueError(f"{key}: {len(missing)} entries rendered, {len(entries)} found")
    for item, entry in zip(missing, entries, strict=True):
        kept.put(item["id"], entry)
    return b"".join((head, *kept.read_many([item["id"] for item in items]), tail))


def split_entries(xml: bytes, tag: bytes, parent: bytes) -> tuple[bytes, list[bytes], bytes]:
    """Cut pretty-printed XML into what comes before the ``<tag>`` elements, each of them
    (from the start of its line to the end of its closing line), and what follows.

    The elements must be the last children of ``<parent>``; without any, the head ends
    where the line of the parent's closing tag starts.

    >>> split_entries(b"<f>\\n  <t>a</t>\\n  <e>1</e>\\n  <e>2</e>\\n</f>\\n", b"e", b"f")
    (b'<f>\\n  <t>a</t>\\n', [b'  <e>1</e>\\n', b'  <e>2</e>\\n'], b'</f>\\n')
    >>> split_entries(b"<r>\\n  <f>\\n    <t>a</t>\\n  </f>\\n</r>\\n", b"e", b"f")
    (b'<r>\\n  <f>\\n    <t>a</t>\\n', [], b'  </f>\\n</r>\\n')
    """
    opening, closing = b"<" + tag + b">", b"</" + tag + b">\n"
    first = xml.find(opening)
    if first < 0:
        cut = xml.rindex(b"\n", 0, xml.rindex(b"</" + parent + b">")) + 1
        return xml[:cut], [], xml[cut:]
    head_end = start = xml.rindex(b"\n", 0, first) + 1
    indent = first - head_end  # every entry is indented alike
    entries: list[bytes] = []
    while xml.startswith(opening, start + indent):
        end = xml.index(closing, start) + len(closing)
        entries.append(xml[start:end])
        start = end
    return xml[:head_end], entries, xml[start:]
