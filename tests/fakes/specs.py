"""Validation of the fakes' traffic against the vendors' own specs in ``../shared/specs/``.

OpenAPI specs (Twilio, OpenAI, HaloPSA) go through openapi-core with the workarounds of vendor-apis §7:
``spec_validator_cls=None``, every ``security`` requirement dropped (the fakes check credentials
themselves), OpenAI's ``discriminator`` keys stripped, and servers reduced to their path so a loopback
host matches. HaloPSA's API is case-insensitive, so its paths are matched to the spec's templates
ignoring case. Graph has no OpenAPI file here: :class:`GraphCsdl` reads property names from the CSDL
(``microsoft.graph`` namespace only — other namespaces repeat type names such as ``user``).

Loaders return ``None`` when ``../shared/specs`` is absent (a fresh clone); ``require_*`` skips instead.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conftest import SHARED, shared_path
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SPECS = SHARED / "specs"
HALOPSA = ("specs", "halopsa", "swagger.json")
OPENAI = ("specs", "openai", "openapi.yaml")
TWILIO = ("specs", "twilio", "twilio_api_v2010.json")
GRAPH_CSDL = ("specs", "msgraph", "cleanMetadata-v1.0.xml")


def _strip(node: Any, keys: frozenset[str]) -> None:
    if isinstance(node, dict):
        for key in keys & node.keys():
            del node[key]
        for value in node.values():
            _strip(value, keys)
    elif isinstance(node, list):
        for value in node:
            _strip(value, keys)


def _server_paths(spec: dict[str, Any]) -> None:
    """Reduce servers to their path (``https://api.openai.com/v1`` → ``/v1``), at every level."""
    root = (spec.get("servers") or [{"url": "/"}])[0]["url"]
    spec["servers"] = [{"url": urlsplit(root).path.rstrip("/") or "/"}]
    for item in spec.get("paths", {}).values():
        item.pop("servers", None)
        for op in item.values():
            if isinstance(op, dict):
                op.pop("servers", None)


class SpecValidator:
    """Validates requests (and optionally responses) a fake sees against one vendor OpenAPI document."""

    def __init__(self, name: str, spec: dict[str, Any], *, case_insensitive_paths: bool = False) -> None:
        spec = copy.deepcopy(spec)
        _strip(spec, frozenset({"security"}))
        _server_paths(spec)
        self.name = name
        self.prefix = spec["servers"][0]["url"].rstrip("/")
        self._api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        self._templates: list[tuple[re.Pattern[str], str]] = []
        if case_insensitive_paths:
            for template in spec.get("paths", {}):
                pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(self.prefix + template))
                self._templates.append((re.compile(f"^{pattern}$", re.IGNORECASE), template))

    def canonical_path(self, path: str) -> str:
        """The path with the spec's spelling of its literal segments (for case-insensitive APIs)."""
        for pattern, template in self._templates:
            if pattern.match(path):
                actual = path.split("/")
                spelled = (self.prefix + template).split("/")
                return "/".join(a if s.startswith("{") else s for a, s in zip(actual, spelled, strict=True))
        return path

    def _request(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> MockRequest:
        content_type = headers.get("Content-Type", "application/json").split(";")[0].strip()
        return MockRequest(
            "http://fake.invalid",
            method,
            self.canonical_path(path),
            args=dict(query),
            headers=dict(headers),
            data=body,
            content_type=content_type or "application/json",
        )

    def request_errors(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> list[str]:
        """Why this request breaks the spec; empty when it conforms."""
        try:
            self._api.validate_request(self._request(method, path, query, headers, body))
        except Exception as exc:  # openapi-core raises a family of error types
            cause = exc.__cause__ or exc.__context__
            return [
                f"{self.name} {method} {path}: {type(exc).__name__}: {exc}" + (f" ({cause})" if cause else "")
            ]
        return []

    def response_errors(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        status: int,
        response_body: bytes,
    ) -> list[str]:
        """Why a fake's response breaks the spec (keeps the fakes honest); empty when it conforms."""
        try:
            self._api.validate_response(
                self._request(method, path, query, headers, body),
                MockResponse(response_body, status_code=status, content_type="application/json"),
            )
        except Exception as exc:
            cause = exc.__cause__ or exc.__context__
            return [
                f"{self.name} response {status} to {method} {path}: {exc}" + (f" ({cause})" if cause else "")
            ]
        return []


def _exists(parts: tuple[str, ...]) -> Path | None:
    path = SHARED.joinpath(*parts)
    return path if path.exists() else None


@functools.cache
def _halopsa() -> SpecValidator | None:
    path = _exists(HALOPSA)
    if path is None:
        return None
    return SpecValidator("halopsa", json.loads(path.read_text("utf-8")), case_insensitive_paths=True)


@functools.cache
def _twilio() -> SpecValidator | None:
    path = _exists(TWILIO)
    return SpecValidator("twilio", json.loads(path.read_text("utf-8"))) if path else None


@functools.cache
def _openai() -> SpecValidator | None:
    path = _exists(OPENAI)
    if path is None:
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(path.read_text("utf-8"), Loader=loader)
    _strip(spec, frozenset({"discriminator"}))
    return SpecValidator("openai", spec)


def halopsa_spec() -> SpecValidator | None:
    return _halopsa()


def twilio_spec() -> SpecValidator | None:
    return _twilio()


def openai_spec() -> SpecValidator | None:
    return _openai()


def require_halopsa_spec() -> SpecValidator:
    shared_path(*HALOPSA)
    spec = _halopsa()
    assert spec is not None
    return spec


def require_twilio_spec() -> SpecValidator:
    shared_path(*TWILIO)
    spec = _twilio()
    assert spec is not None
    return spec


def require_openai_spec() -> SpecValidator:
    shared_path(*OPENAI)
    spec = _openai()
    assert spec is not None
    return spec


# --- Microsoft Graph CSDL ----------------------------------------------------------------------------

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _local_type(raw: str) -> str:
    """``Collection(graph.user)`` / ``microsoft.graph.user`` / ``graph.user`` → ``user``."""
    raw = raw.removeprefix("Collection(").removesuffix(")")
    for prefix in ("microsoft.graph.", "graph."):
        if raw.startswith(prefix):
            return raw[len(prefix) :]
    return raw


@dataclass
class CsdlType:
    name: str
    base: str | None
    properties: dict[str, str] = field(default_factory=dict)
    """Structural and navigation property name → type (``Collection(graph.x)`` kept as written)."""


@dataclass
class CsdlAction:
    """A bound action (``POST /users/{id}/sendMail``): the type it is bound to and its parameters."""

    name: str
    bound_to: str
    parameters: dict[str, str] = field(default_factory=dict)
    """Parameter name → type, the binding parameter left out."""


_RESTRICTIONS = {
    "POST": ("InsertRestrictions", "Insertable"),
    "PATCH": ("UpdateRestrictions", "Updatable"),
    "DELETE": ("DeleteRestrictions", "Deletable"),
}
"""The OData capability that allows a write on a navigation property, by HTTP method."""


class GraphCsdl:
    """Entity and complex types of the ``microsoft.graph`` namespace, with inherited properties, plus the
    entity sets and singletons a URL starts from, the bound actions, and the capability annotations that
    forbid a write (``Deletable=false`` …). :meth:`request_problems` checks one Graph request."""

    def __init__(self, path: Path) -> None:
        self.types: dict[str, CsdlType] = {}
        self.roots: dict[str, tuple[str, bool]] = {}
        self.actions: dict[str, list[CsdlAction]] = {}
        self.forbidden: set[tuple[str, str]] = set()
        """(``type/navigationProperty``, HTTP method) pairs a capability annotation rules out."""
        root = ET.parse(path).getroot()
        for schema in root.iter(f"{_EDM}Schema"):
            for block in schema.findall(f"{_EDM}Annotations"):
                self._read_restrictions(block)
            if schema.get("Namespace") != "microsoft.graph":
                continue
            for node in schema.findall(f"{_EDM}Action"):
                params = node.findall(f"{_EDM}Parameter")
                if node.get("IsBound") != "true" or not params:
                    continue
                action = CsdlAction(node.get("Name", ""), _local_type(params[0].get("Type", "")))
                action.parameters = {p.get("Name", ""): p.get("Type", "") for p in params[1:]}
                self.actions.setdefault(action.name, []).append(action)
            for kind in ("EntityType", "ComplexType"):
                for node in schema.findall(f"{_EDM}{kind}"):
                    base = node.get("BaseType")
                    entry = CsdlType(node.get("Name", ""), _local_type(base) if base else None)
                    for prop in node:
                        if prop.tag in (f"{_EDM}Property", f"{_EDM}NavigationProperty"):
                            entry.properties[prop.get("Name", "")] = prop.get("Type", "")
                    self.types[entry.name] = entry
            for container in schema.findall(f"{_EDM}EntityContainer"):
                for node in container.findall(f"{_EDM}EntitySet"):
                    self.roots[node.get("Name", "")] = (_local_type(node.get("EntityType", "")), True)
                for node in container.findall(f"{_EDM}Singleton"):
                    self.roots[node.get("Name", "")] = (_local_type(node.get("Type", "")), False)

    def _read_restrictions(self, block: ET.Element) -> None:
        target = block.get("Target", "")
        if not target.startswith("microsoft.graph.") or "/" not in target:
            return
        for method, (term, flag) in _RESTRICTIONS.items():
            for note in block.findall(f"{_EDM}Annotation"):
                if note.get("Term") != f"Org.OData.Capabilities.V1.{term}":
                    continue
                for value in note.iter(f"{_EDM}PropertyValue"):
                    if value.get("Property") == flag and value.get("Bool") == "false":
                        self.forbidden.add((_local_type(target), method))

    def _bases(self, type_name: str) -> list[str]:
        chain, current = [], type_name
        while current is not None and current in self.types:
            chain.append(current)
            current = self.types[current].base
        return chain

    def action(self, type_name: str, name: str) -> CsdlAction | None:
        """The action ``name`` bound to ``type_name`` or one of its base types."""
        bases = self._bases(type_name)
        return next((a for a in self.actions.get(name, []) if a.bound_to in bases), None)

    def properties(self, type_name: str) -> dict[str, str]:
        """All properties of ``type_name`` including those of its base types."""
        merged: dict[str, str] = {}
        current: str | None = type_name
        while current is not None:
            entry = self.types[current]
            merged = {**entry.properties, **merged}
            current = entry.base
        return merged

    def unknown(self, type_name: str, names: Iterable[str]) -> set[str]:
        """Which of ``names`` (``@odata.*`` annotations ignored) the type does not have."""
        known = self.properties(type_name)
        return {n for n in names if n and not n.startswith("@") and n not in known}

    def type_of(self, type_name: str, prop: str) -> str:
        """The type a property points at, unwrapped from ``Collection(graph.x)`` → ``x``."""
        return _local_type(self.properties(type_name)[prop])

    def walk(self, path: str) -> tuple[str, bool]:
        """The type a Graph URL path addresses (``/users/{id}/authentication/phoneMethods`` →
        ``phoneAuthenticationMethod``, collection). Raises ``KeyError`` naming an unknown segment."""
        type_name, collection, _ = self._walk(path)
        return type_name, collection

    def _walk(self, path: str) -> tuple[str, bool, str]:
        """:meth:`walk`, plus the last navigation property followed (``authentication/phoneMethods``)."""
        segments = [s for s in path.split("/") if s]
        if segments and segments[0] in ("v1.0", "beta"):
            segments = segments[1:]
        if not segments or segments[0] not in self.roots:
            raise KeyError(f"no entity set or singleton {segments[:1]}")
        type_name, collection = self.roots[segments[0]]
        navigation = ""
        for segment in segments[1:]:
            if segment.startswith("microsoft.graph."):
                type_name = _local_type(segment)
                if type_name not in self.types:
                    raise KeyError(f"no type {segment}")
                continue
            props = self.properties(type_name)
            if collection and segment not in props:
                collection = False  # a key segment: /users/{id}
                continue
            if segment not in props:
                raise KeyError(f"{type_name} has no property {segment!r}")
            owner = next(t for t in self._bases(type_name) if segment in self.types[t].properties)
            navigation = f"{owner}/{segment}"
            collection = props[segment].startswith("Collection(")
            type_name = _local_type(props[segment])
        return type_name, collection, navigation

    def request_problems(self, method: str, path: str, query: Mapping[str, str], body: Any) -> list[str]:
        """Names in the URL, ``$select``/``$filter``/``$expand`` and the JSON body unknown to Graph; a bound
        action's parameters; a write the CSDL's capability annotations forbid."""
        head, _, last = path.rstrip("/").rpartition("/")
        try:
            bound_type, _ = self.walk(head)
        except KeyError:
            bound_type = ""
        action = self.action(bound_type, last) if bound_type else None
        if action is not None:
            return self.action_problems(action, method, body, f"{method} {path}")
        try:
            type_name, collection, navigation = self._walk(path)
        except KeyError as exc:
            return [f"{method} {path}: {exc}"]
        if navigation and (navigation, method) in self.forbidden:
            return [f"{method} {path}: the CSDL forbids {method} on {navigation}"]
        if method == "DELETE" and collection:
            return [f"{method} {path}: DELETE addresses one entity, not the collection {navigation}"]
        names: set[str] = set()
        if "$select" in query:
            names |= {n.strip() for n in query["$select"].split(",")}
        if "$expand" in query:
            names |= {re.sub(r"\(.*\)$", "", n.strip()) for n in query["$expand"].split(",")}
        if "$filter" in query:
            names |= set(re.findall(r"(\w+)\s+(?:eq|ne|in|startswith|ge|le|gt|lt)\b", query["$filter"]))
            names |= set(re.findall(r"(\w+)/(?:any|all)\(", query["$filter"]))  # lambda over a collection
        problems = [
            f"{method} {path}: {type_name} has no {n!r}" for n in sorted(self.unknown(type_name, names))
        ]
        if isinstance(body, dict):
            problems += self.body_problems(type_name, body, f"{method} {path}")
        return problems

    def body_problems(self, type_name: str, body: dict[str, Any], where: str) -> list[str]:
        """Keys of ``body`` (and of nested complex values, also inside collections) unknown to ``type_name``."""
        problems = [f"{where}: {type_name} has no {n!r}" for n in sorted(self.unknown(type_name, body))]
        for key, value in body.items():
            if key not in self.properties(type_name):
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and self.type_of(type_name, key) in self.types:
                    problems += self.body_problems(self.type_of(type_name, key), item, where)
        return problems

    def action_problems(self, action: CsdlAction, method: str, body: Any, where: str) -> list[str]:
        """A bound action is a POST whose body holds its parameters (each checked against its type).

        Parameter names are matched case-insensitively: the CSDL writes sendMail's as ``Message`` and
        ``SaveToSentItems`` while Graph's documentation and service use ``message`` / ``saveToSentItems``."""
        if method != "POST":
            return [f"{where}: {action.name} is an action: POST only"]
        if not isinstance(body, dict):
            return [f"{where}: {action.name} needs a JSON object body"]
        by_name = {name.lower(): kind for name, kind in action.parameters.items()}
        problems = [
            f"{where}: {action.name} has no parameter {k!r}" for k in body if k.lower() not in by_name
        ]
        for key, value in body.items():
            local = _local_type(by_name.get(key.lower(), ""))
            if isinstance(value, dict) and local in self.types:
                problems += self.body_problems(local, value, where)
        return problems


@functools.cache
def graph_csdl() -> GraphCsdl | None:
    path = _exists(GRAPH_CSDL)
    return GraphCsdl(path) if path else None


def require_graph_csdl() -> GraphCsdl:
    shared_path(*GRAPH_CSDL)
    csdl = graph_csdl()
    assert csdl is not None
    return csdl
