"""Byte-stable Turtle, RDF/XML and JSON-LD serialisation of the DCAT-AP.de catalogue graph.

The same triples always give the same bytes, whatever order they were added in and whatever
PYTHONHASHSEED is. ``serialize_triples`` writes the files straight from the triples (a few
hundred datasets of 200 sources: tens of thousands of triples, which rdflib's Graph and
serialisers took seconds for); its output is byte for byte what ``serialize`` makes of the
same triples through rdflib (Turtle from rdflib's sorted Turtle writer, JSON-LD from rdflib
re-sorted explicitly) and the small RDF/XML writer below, which rdflib's RDF/XML writers
(they iterate sets and change order between processes) could not be.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, FOAF, XSD

from regiofeed.publish.dcat_vocab import HYDRA, PREFIXES

TURTLE = "text/turtle"
RDF_XML = "application/rdf+xml"
JSON_LD = "application/ld+json"

# File extension -> (media type, rdflib serializer name).
SERIALISATIONS: dict[str, tuple[str, str]] = {
    "ttl": (TURTLE, "turtle"),
    "rdf": (RDF_XML, "rdf/xml"),
    "jsonld": (JSON_LD, "json-ld"),
}

Triple = tuple[URIRef, URIRef, URIRef | Literal]
Triples = set[Triple]

# The fixed JSON-LD @context: the prefixes only, so every IRI compacts the same way.
JSONLD_CONTEXT: dict[str, str] = {prefix: str(ns) for prefix, ns in PREFIXES.items()}


def serialize(graph: Graph, extension: str) -> bytes:
    """Serialise ``graph`` as Turtle ("ttl"), RDF/XML ("rdf") or JSON-LD ("jsonld"), UTF-8.

    Raises ValueError for a blank node: every node of the catalogue must have a URI, so that
    harvesters can tell one publication run's resources from the next one's.
    """
    if any(isinstance(term, BNode) for triple in graph for term in triple):
        raise ValueError("the catalogue graph must not contain blank nodes")
    fmt = SERIALISATIONS[extension][1]
    if fmt == "rdf/xml":
        return _rdfxml(graph)
    ordered = _sorted_copy(graph)
    if fmt == "json-ld":
        return _canonical_jsonld(ordered.serialize(format=fmt, context=JSONLD_CONTEXT))
    data = ordered.serialize(format=fmt, encoding="utf-8")
    return data if data.endswith(b"\n") else data + b"\n"


def _sorted_copy(graph: Graph) -> Graph:
    """Return a new graph with the same triples added in sorted order and our prefixes only."""
    # "core" binds xml: (for xml:lang in RDF/XML); serialisers write only the prefixes used.
    ordered = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        ordered.bind(prefix, namespace, override=True)
    # n3() is a total, type-aware key (IRIs, literals with datatype or language) over terms.
    for triple in sorted(graph, key=lambda t: tuple(term.n3() for term in t)):
        ordered.add(triple)
    return ordered


def _canonical_jsonld(text: str) -> bytes:
    """Return JSON-LD with nodes sorted by @id and every value array sorted, indent 2."""
    document = json.loads(text)
    if "@graph" not in document:
        # A graph of one node is written without @graph; keep one shape for every file.
        context = document.pop("@context", JSONLD_CONTEXT)
        document = {"@context": context, "@graph": [document] if document else []}
    document["@graph"] = sorted(
        (_sorted_values(node) for node in document["@graph"]), key=lambda node: node["@id"]
    )
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _sorted_values(node: dict[str, Any]) -> dict[str, Any]:
    """Sort the values of every multi-valued property of one node object."""
    return {
        key: sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
        if isinstance(value, list)
        else value
        for key, value in node.items()
    }


# Subjects of these classes come first in RDF/XML, in this order; then all others by IRI.
_CLASS_ORDER = (DCAT.Catalog, HYDRA.PagedCollection, DCAT.Dataset, DCAT.Distribution, FOAF.Agent)
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _rdfxml(graph: Graph) -> bytes:
    """Write RDF/XML: one typed node element per subject, everything sorted (no blank nodes)."""
    return _rdfxml_index(Index(graph))


def _rdfxml_index(index: Index) -> bytes:
    """Write RDF/XML from indexed triples (see ``_rdfxml``)."""

    def rank(subject: URIRef) -> tuple[int, str]:
        types = set(index.subjects[subject].get(RDF.type, ()))
        ranks = [i for i, cls in enumerate(_CLASS_ORDER) if cls in types]
        return (min(ranks, default=len(_CLASS_ORDER)), str(subject))

    body: list[str] = []
    used: set[str] = {"rdf"}
    for subject in sorted((s for s in index.subjects if isinstance(s, URIRef)), key=rank):
        properties = index.subjects[subject]
        types = sorted(
            (o for o in properties.get(RDF.type, ()) if isinstance(o, URIRef)), key=str
        )
        element = _qname(types[0], used) if types and _qname(types[0], set()) else None
        tag = element or "rdf:Description"
        rest = [(RDF.type, o) for o in (types[1:] if element else types)]
        others = [(p, o) for p, objects in properties.items() if p != RDF.type for o in objects]
        body.append(f"  <{tag} rdf:about={quoteattr(str(subject))}>")
        for predicate, obj in rest + sorted(others, key=lambda po: (str(po[0]), po[1].n3())):
            name = _qname(predicate, used)
            if name is None:
                raise ValueError(f"no prefix declared for predicate {predicate}")
            body.append(f"    {_property(name, obj)}")
        body.append(f"  </{tag}>")
    head = ['<?xml version="1.0" encoding="utf-8"?>', "<rdf:RDF"]
    head += [f"  xmlns:{p}={quoteattr(str(ns))}" for p, ns in PREFIXES.items() if p in used]
    head[-1] += ">"
    return "\n".join([*head, *body, "</rdf:RDF>", ""]).encode("utf-8")


def _property(name: str, obj: Any) -> str:
    """Return one property element: rdf:resource for IRIs, text for literals."""
    if isinstance(obj, URIRef):
        return f"<{name} rdf:resource={quoteattr(str(obj))}/>"
    if not isinstance(obj, Literal):
        raise ValueError(f"cannot write {obj!r} in RDF/XML")
    attributes = ""
    if obj.language:
        attributes = f" xml:lang={quoteattr(obj.language)}"
    elif obj.datatype:
        attributes = f" rdf:datatype={quoteattr(str(obj.datatype))}"
    text = escape(str(obj), {"\r": "&#13;"})
    return f"<{name}{attributes}>{text}</{name}>"


def _qname(iri: URIRef, used: set[str]) -> str | None:
    """Return ``prefix:local`` for an IRI in a declared namespace (noting the prefix), or None."""
    found = _qname_of(str(iri))
    if found is None:
        return None
    used.add(found[0])
    return found[1]


# A catalogue page names the same few hundred IRIs (predicates, classes, the datasets) again
# in every serialisation: each is split once per run, not once per mention.
@lru_cache(maxsize=1 << 16)
def _qname_of(iri: str) -> tuple[str, str] | None:
    for prefix, namespace in PREFIXES.items():
        local = iri[len(str(namespace)) :]
        if iri.startswith(str(namespace)) and _NCNAME.match(local):
            return prefix, f"{prefix}:{local}"
    return None


@lru_cache(maxsize=1 << 16)
def _symbol(iri: str) -> str:
    """Return the compact JSON-LD name of an IRI (``prefix:local``), or the IRI itself."""
    for namespace, prefix in _NAMESPACES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


# --- straight from the triples --------------------------------------------------------------


def serialize_triples(triples: Iterable[Triple], extension: str) -> bytes:
    """Serialise triples as ``serialize`` does their graph, byte for byte, without rdflib's
    Graph: Turtle ("ttl"), RDF/XML ("rdf") or JSON-LD ("jsonld"), UTF-8."""
    return serialize_index(Index(triples), (), extension)


def serialize_index(index: Index, extra: Iterable[Triple], extension: str) -> bytes:
    """Serialise the triples of ``index`` and ``extra`` (none of them in the index) as
    ``serialize_triples`` does; the index is as it was afterwards. A catalogue page's triples
    are indexed once for its three serialisations, which differ only in their paging links."""
    added = list(extra)
    for triple in added:
        index.add(triple)
    try:
        return _serialize_index(index, extension)
    finally:
        for triple in added:
            index.remove(triple)


def _serialize_index(index: Index, extension: str) -> bytes:
    if extension == "ttl":
        return _turtle(index)
    if extension == "jsonld":
        return _jsonld(index)
    if extension == "rdf":
        return _rdfxml_index(index)
    raise ValueError(f"unknown serialisation {extension!r}")


class Index:
    """Triples by subject and predicate, and how often each node is an object."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self.subjects: dict[URIRef, dict[URIRef, list[URIRef | Literal]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.references: Counter[URIRef | Literal] = Counter()
        for triple in triples:
            self.add(triple)

    def add(self, triple: Triple) -> None:
        """Add one triple (not in the index yet)."""
        subject, predicate, obj = triple
        if isinstance(subject, BNode) or isinstance(obj, BNode):
            raise ValueError("the catalogue graph must not contain blank nodes")
        self.subjects[subject][predicate].append(obj)
        self.references[obj] += 1

    def remove(self, triple: Triple) -> None:
        """Take out a triple ``add`` put in, and any subject or predicate left without one."""
        subject, predicate, obj = triple
        properties = self.subjects[subject]
        properties[predicate].remove(obj)
        if not properties[predicate]:
            del properties[predicate]
        if not properties:
            del self.subjects[subject]
        self.references[obj] -= 1
        if not self.references[obj]:
            del self.references[obj]


# Namespace IRI -> prefix, for splitting IRIs as rdflib's compute_qname does (at the last "#"
# or "/" that leaves a valid local name).
_NAMESPACES = {str(namespace): prefix for prefix, namespace in PREFIXES.items()}


@lru_cache(maxsize=1 << 16)
def _split(iri: str) -> tuple[str, str] | None:
    """Return (prefix, local name) of an IRI in one of our namespaces, else None."""
    for index in range(len(iri) - 1, -1, -1):
        if iri[index] in "#/":
            prefix = _NAMESPACES.get(iri[: index + 1])
            local = iri[index + 1 :]
            if prefix is not None and _NCNAME.match(local) and not local.endswith("."):
                return prefix, local
            return None
    return None


def _object_key(obj: URIRef | Literal) -> tuple[int, str, str, str]:
    """Sort key of objects as rdflib orders them: IRIs by text, then literals (by datatype,
    language, text)."""
    if isinstance(obj, Literal):
        return (1, str(obj.datatype or XSD.string), obj.language or "", str(obj))
    return (0, str(obj), "", "")


def _turtle(index: Index) -> bytes:
    """Write Turtle as rdflib's TurtleSerializer does for a graph without blank nodes."""
    used: set[str] = set()

    def name(iri: str) -> str:
        parts = _split(iri)
        if parts is None:
            return f"<{iri}>"
        used.add(parts[0])
        return f"{parts[0]}:{parts[1]}"

    def label(node: URIRef | Literal) -> str:
        if isinstance(node, Literal):
            if node.datatype is not None:
                name(str(node.datatype))  # rdflib declares the prefix of every datatype
            return node._literal_n3(use_plain=True, qname_callback=lambda dt: name(str(dt)))
        return name(str(node)) if _split(str(node)) else URIRef(node).n3()

    # Subjects least referred to first, then by IRI (rdflib's orderSubjects).
    ordered = sorted(index.subjects, key=lambda s: (index.references[s], str(s)))
    blocks: list[str] = []
    for subject in ordered:
        properties = index.subjects[subject]
        predicates = sorted(properties, key=lambda p: (p != RDF.type, str(p)))
        parts = []
        for predicate in predicates:
            objects = sorted(properties[predicate], key=_object_key)
            verb = "a" if predicate == RDF.type else name(str(predicate))
            parts.append(f"{verb} " + ",\n        ".join(label(obj) for obj in objects))
        blocks.append(f"\n{label(subject)} " + " ;\n    ".join(parts) + " .\n")
    head = "".join(f"@prefix {p}: <{PREFIXES[p]}> .\n" for p in sorted(used))
    return (head + "".join(blocks) + "\n").encode("utf-8")


def _jsonld(index: Index) -> bytes:
    """Write JSON-LD as ``_canonical_jsonld`` writes rdflib's, with the fixed @context."""

    symbol = _symbol

    def value(obj: URIRef | Literal) -> Any:
        if not isinstance(obj, Literal):
            return {"@id": symbol(str(obj))}
        if obj.datatype is not None:
            if obj.datatype in (XSD.integer, XSD.boolean, XSD.double, XSD.string):
                return obj.toPython()
            return {"@type": symbol(str(obj.datatype)), "@value": str(obj)}
        if obj.language:
            return {"@language": obj.language, "@value": str(obj)}
        return str(obj)

    nodes = []
    for subject, properties in index.subjects.items():
        node: dict[str, Any] = {"@id": symbol(str(subject))}
        for predicate, objects in properties.items():
            if predicate == RDF.type:
                values = [symbol(str(obj)) for obj in objects]
                key = "@type"
            else:
                values = [value(obj) for obj in objects]
                key = symbol(str(predicate))
            node[key] = values[0] if len(values) == 1 else values
        nodes.append(_sorted_values(node))
    nodes.sort(key=lambda node: node["@id"])
    document = {"@context": JSONLD_CONTEXT, "@graph": nodes}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
