"""Owns the SVG logo allow-list: parse safely, keep only drawing, write a fresh document.

An SVG is a document that can run script on the hub's origin. Instead of looking for bad words
(a namespace prefix such as `<s:script>` walks past any pattern), the file is parsed with
defusedxml (no DTD, hence no entity tricks), every element and attribute is resolved to its
namespace and kept only if it is on the lists below, and the logo is re-serialised from that
tree: what browsers get is exactly what was checked. Links may only point inside the document
(`#id`) or at an embedded raster image; CSS may not load anything (`url(#id)` only, no `@`).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"

ELEMENTS = frozenset({
    "svg", "g", "defs", "title", "desc", "style", "symbol", "use", "image", "switch",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker",
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feFlood",
    "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode",
    "feMorphology", "feOffset", "feDropShadow",
})
ATTRIBUTES = frozenset({
    # structure and geometry
    "id", "class", "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx",
    "ry", "fx", "fy", "fr", "d", "points", "pathLength", "transform", "viewBox", "version",
    "preserveAspectRatio", "style", "dx", "dy", "rotate", "textLength", "lengthAdjust",
    "startOffset", "href", "offset", "gradientUnits", "gradientTransform", "spreadMethod",
    "patternUnits", "patternContentUnits", "patternTransform", "clipPathUnits", "maskUnits",
    "maskContentUnits", "markerWidth", "markerHeight", "markerUnits", "refX", "refY", "orient",
    "filterUnits", "primitiveUnits", "in", "in2", "result", "mode", "operator", "k1", "k2",
    "k3", "k4", "stdDeviation", "type", "values", "tableValues", "slope", "intercept",
    "amplitude", "exponent", "radius", "flood-color", "flood-opacity", "media",
    # presentation
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
    "stroke-dashoffset", "opacity", "color", "display", "visibility", "clip-path", "clip-rule",
    "mask", "filter", "stop-color", "stop-opacity", "font-family", "font-size", "font-weight",
    "font-style", "font-variant", "font-stretch", "text-anchor", "dominant-baseline",
    "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
    "text-decoration", "writing-mode", "overflow", "shape-rendering", "text-rendering",
    "image-rendering", "color-interpolation", "color-interpolation-filters", "mix-blend-mode",
    "isolation", "paint-order", "vector-effect", "marker-start", "marker-mid", "marker-end",
})
_LOCAL_REF = re.compile(r"#[A-Za-z_][\w.:-]*")
_RASTER = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*")
# In CSS and presentation values: url() only to a fragment of this document; no at-rules
# (@import, @font-face), escapes (which could spell either) or markup.
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_FORBIDDEN = re.compile(r"[@\\<]|expression\s*\(|javascript:", re.IGNORECASE)


class UnsafeSvg(Exception):
    """The file cannot be made into a safe SVG logo (why, in a few words)."""


def _safe_css(value: str) -> bool:
    if _CSS_FORBIDDEN.search(value):
        return False
    return all(_LOCAL_REF.fullmatch(m.group(2).strip()) for m in _URL.finditer(value))


def _name(qualified: str) -> tuple[str, str]:
    """(namespace, local name) of ElementTree's `{ns}local` form."""
    if qualified.startswith("{"):
        ns, _, local = qualified[1:].partition("}")
        return ns, local
    return "", qualified


def _attribute(tag: str, qualified: str, value: str) -> str | None:
    """The attribute's output name if it may stay, else None."""
    ns, local = _name(qualified)
    if ns == XML and local == "space":
        return "xml:space"
    if (ns, local) == (XLINK, "href"):
        out = "xlink:href"
    elif ns == "" and local in ATTRIBUTES:
        out = local
    else:
        return None
    if local == "href" and not (
        _LOCAL_REF.fullmatch(value.strip())
        or (tag == "image" and _RASTER.fullmatch(value.strip()))
    ):
        return None
    return out if _safe_css(value) else None


def _write(element: Element, out: list[str], dropped: set[str], root: bool = False) -> None:
    ns, tag = _name(element.tag)
    if ns != SVG or tag not in ELEMENTS or (tag == "style" and not _safe_css(element.text or "")):
        dropped.add(tag if ns == SVG else element.tag)
        return
    attrs = [' xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"']
    attrs = attrs if root else []
    for qualified, value in element.attrib.items():
        name = _attribute(tag, qualified, value)
        if name is None:
            dropped.add(f"@{_name(qualified)[1]}")
            continue
        attrs.append(f" {name}={quoteattr(value)}")
    if not element.text and not len(element):
        out.append(f"<{tag}{''.join(attrs)}/>")
        return
    out.append(f"<{tag}{''.join(attrs)}>{escape(element.text or '')}")
    for child in element:
        _write(child, out, dropped)
        out.append(escape(child.tail or ""))
    out.append(f"</{tag}>")


def sanitise_svg(data: bytes) -> tuple[bytes, set[str]]:
    """A fresh SVG document holding only allow-listed drawing, and what was dropped."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise UnsafeSvg("it is an SVG with a DTD or entities, which are not allowed") from None
    except ParseError as e:
        raise UnsafeSvg(f"it is not well-formed SVG ({e})") from None
    if _name(root.tag) != (SVG, "svg"):
        raise UnsafeSvg("its root element is not an SVG <svg> element")
    out: list[str] = []
    dropped: set[str] = set()
    _write(root, out, dropped, root=True)
    return ("".join(out)).encode(), dropped
