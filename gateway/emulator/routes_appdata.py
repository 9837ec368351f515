"""``/appdata``: the handshake and the data store (CRUD, queries, counts, multi-insert)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.emulator import acl, auth, versions
from gateway.emulator.listing import listing_of, matching, query_of, run_listing
from gateway.emulator.responses import empty_response, json_response, kinvey_error
from gateway.emulator.routing import Call
from gateway.emulator.store import CLOCK, Document, new_id, stamp_metadata
from gateway.kinvey.errors import KinveyError

BACKEND_VERSION = "3.40.0"
MULTI_INSERT_MAX = 100
REQUEST_START_HEADER = "X-Kinvey-Request-Start"


async def handshake_anonymous(call: Call) -> web.StreamResponse:
    return json_response({"version": BACKEND_VERSION, "kinvey": "hello"})


async def handshake(call: Call) -> web.StreamResponse:
    auth.authenticate(call, auth.ANYONE)
    name = call.config.app_name
    return json_response(
        {
            "version": BACKEND_VERSION,
            "kinvey": f"hello {name}",
            "appName": name,
            "environmentName": call.config.environment_name,
        }
    )


def _creator_id(principal: auth.Principal, call: Call) -> str:
    return principal.user.user_id if principal.user is not None else call.config.app_key


def _insert(call: Call, entity: Any, creator: str) -> Document:
    """One POSTed entity, stored; the KinveyError a single POST of it would get otherwise."""
    if not isinstance(entity, dict):
        raise KinveyError("BadRequest", debug="An entity must be a JSON object")
    doc: Document = dict(entity)
    entity_id = doc.get("_id", None)
    if entity_id is None:
        entity_id = new_id()
    elif not isinstance(entity_id, str) or not entity_id:
        raise kinvey_error("InvalidIdentifier", "_id must be a non-empty string")
    collection = call.store.collection(call.params["collection"])
    if entity_id in collection:
        raise KinveyError(
            "EntityAlreadyExists",
            description="An entity with this _id already exists in the collection",
            debug="Use PUT /appdata/:appKey/:collection/:id to update an entity",
            status=409,
        )
    doc["_id"] = entity_id
    collection[entity_id] = stamp_metadata(doc, creator, None)
    call.store.forget_deletion(call.params["collection"], entity_id)
    return doc


async def create(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.DATA)
    body = await call.json_body()
    creator = _creator_id(principal, call)
    if isinstance(body, list):
        return _multi_insert(call, body, creator)
    return json_response(_insert(call, body, creator), status=201)


def _multi_insert(call: Call, entities: list[Any], creator: str) -> web.StreamResponse:
    if not versions.has_multi_insert(call.version):
        raise versions.feature_unavailable(
            "Inserting multiple entities is not available in this Kinvey API version"
        )
    if not entities:
        raise KinveyError("BadRequest", debug="The array of entities to insert is empty")
    if len(entities) > MULTI_INSERT_MAX:
        raise KinveyError(
            "BadRequest",
            debug=f"At most {MULTI_INSERT_MAX} entities can be inserted in one request",
            status=413,
        )
    saved: list[Document | None] = []
    errors: list[dict[str, Any]] = []
    for index, entity in enumerate(entities):
        try:
            saved.append(_insert(call, entity, creator))
        except KinveyError as error:
            saved.append(None)
            errors.append({"index": index, **error.body(call.version)})
    status = 207 if errors else 201
    return json_response({"entities": saved, "errors": errors}, status=status)


def _existing_entity(call: Call) -> Document:
    doc = call.store.collection(call.params["collection"]).get(call.params["id"])
    if doc is None:
        raise KinveyError("EntityNotFound")
    return doc


async def read_entity(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.DATA)
    doc = _existing_entity(call)
    acl.require_read(principal, doc)
    return json_response(doc)


async def save_entity(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.DATA)
    body = await call.json_object()
    entity_id = call.params["id"]
    collection = call.store.collection(call.params["collection"])
    previous = collection.get(entity_id)
    if previous is not None:
        acl.require_write(principal, previous)
    doc = {**body, "_id": entity_id}
    collection[entity_id] = stamp_metadata(doc, _creator_id(principal, call), previous)
    call.store.forget_deletion(call.params["collection"], entity_id)
    return json_response(doc, status=200 if previous is not None else 201)


def _deleted(call: Call, count: int) -> web.StreamResponse:
    if versions.delete_returns_count(call.version):
        return json_response({"count": count})
    return empty_response(204)


async def delete_entity(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.DATA)
    acl.require_write(principal, _existing_entity(call))
    call.store.delete_entity(call.params["collection"], call.params["id"])
    return _deleted(call, 1)


async def delete_by_query(call: Call) -> web.StreamResponse:
    principal = auth.authenticate(call, auth.DATA)
    if call.arg("query") is None:
        raise kinvey_error("MissingQuery", "DELETE on a collection needs ?query=")
    name = call.params["collection"]
    found = matching(call.store.collection(name).values(), query_of(call))
    doomed = [doc for doc in found if acl.may_write(principal, doc)]
    for doc in doomed:
        call.store.delete_entity(name, doc["_id"])
    return _deleted(call, len(doomed))


def visible_entities(call: Call) -> list[Document]:
    """The collection's entities the caller may read (after authenticating it)."""
    principal = auth.authenticate(call, auth.DATA)
    return acl.readable(principal, call.store.collection(call.params["collection"]).values())


async def find(call: Call) -> web.StreamResponse:
    started = CLOCK.tick()
    docs = visible_entities(call)
    response = json_response(
        run_listing(docs, listing_of(call), call.version, call.config.result_set_limit)
    )
    # The time a later _deltaset asks "what changed since" (Kinvey sends it on every read).
    response.headers[REQUEST_START_HEADER] = started
    return response


async def count(call: Call) -> web.StreamResponse:
    docs = visible_entities(call)
    return json_response({"count": len(matching(docs, query_of(call)))})
