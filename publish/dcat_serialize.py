"""Byte-stable Turtle, RDF/XML and JSON-LD serialisation of the DCAT-AP.de catalogue graph.

The same graph always gives the same bytes, whatever order its triples were added in and
whatever PYTHONHASHSEED is: Turtle comes from rdflib (whose Turtle writer sorts subjects,
predicates and objects), JSON-LD from rdflib re-sorted explicitly (its @graph array and every
multi-valued property are unordered in JSON-LD), and RDF/XML from the small writer below,
because rdflib's RDF/XML writers iterate sets and change order between processes.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, FOAF

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

    def rank(subject: URIRef) -> tuple[int, str]:
        types = set(graph.objects(subject, RDF.type))
        ranks = [i for i, cls in enumerate(_CLASS_ORDER) if cls in types]
        return (min(ranks, default=len(_CLASS_ORDER)), str(subject))

    body: list[str] = []
    used: set[str] = {"rdf"}
    for subject in sorted({s for s in graph.subjects() if isinstance(s, URIRef)}, key=rank):
        types = sorted(
            (o for o in graph.objects(subject, RDF.type) if isinstance(o, URIRef)), key=str
        )
        element = _qname(types[0], used) if types and _qname(types[0], set()) else None
        tag = element or "rdf:Description"
        rest = [(RDF.type, o) for o in (types[1:] if element else types)]
        others = [(p, o) for p, o in graph.predicate_objects(subject) if p != RDF.type]
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
    for prefix, namespace in PREFIXES.items():
        local = str(iri)[len(str(namespace)) :]
        if str(iri).startswith(str(namespace)) and _NCNAME.match(local):
            used.add(prefix)
            return f"{prefix}:{local}"
    return None
