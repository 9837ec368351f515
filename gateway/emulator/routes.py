"""The emulator's route table (order matters: literal segments before ``:id`` ones)."""

from __future__ import annotations

from gateway.emulator import (
    routes_aggregate,
    routes_appdata,
    routes_blob,
    routes_blob_loc,
    routes_mfa,
    routes_push,
    routes_rpc,
    routes_user,
    routes_user_rpc,
)
from gateway.emulator.routing import Route, route

ROUTES: tuple[Route, ...] = (
    route("/appdata", GET=routes_appdata.handshake_anonymous),
    route("/appdata/:appKey", GET=routes_appdata.handshake),
    route("/appdata/:appKey/:collection/_count", GET=routes_appdata.count),
    route("/appdata/:appKey/:collection/_group", POST=routes_aggregate.group_entities),
    route("/appdata/:appKey/:collection/_deltaset", GET=routes_aggregate.deltaset),
    route(
        "/appdata/:appKey/:collection",
        GET=routes_appdata.find,
        POST=routes_appdata.create,
        DELETE=routes_appdata.delete_by_query,
    ),
    route(
        "/appdata/:appKey/:collection/:id",
        GET=routes_appdata.read_entity,
        PUT=routes_appdata.save_entity,
        DELETE=routes_appdata.delete_entity,
    ),
    route("/user/:appKey", POST=routes_user.signup, GET=routes_user.find_users),
    route("/user/:appKey/login", POST=routes_user.login),
    route("/user/:appKey/_logout", POST=routes_user.logout),
    route("/user/:appKey/_me", GET=routes_user.me),
    route("/user/:appKey/_count", GET=routes_user.count_users),
    route("/user/:appKey/_lookup", POST=routes_user_rpc.lookup_users),
    route("/user/:appKey/mfa/challenge", POST=routes_mfa.challenge),
    route("/user/:appKey/mfa/complete", POST=routes_mfa.complete),
    route(
        "/user/:appKey/:id/authenticators",
        GET=routes_mfa.list_authenticators,
        POST=routes_mfa.add_authenticator,
    ),
    route(
        "/user/:appKey/:id/recovery-codes",
        GET=routes_mfa.list_recovery_codes,
        POST=routes_mfa.regenerate_recovery_codes,
    ),
    route("/user/:appKey/:id/_restore", POST=routes_user.restore_user),
    route(
        "/user/:appKey/:id",
        GET=routes_user.read_user,
        PUT=routes_user.update_user,
        DELETE=routes_user.delete_user,
    ),
    route("/blob/:appKey", POST=routes_blob.create_file, GET=routes_blob.find_files),
    route("/blob/:appKey/upload-loc/:name", GET=routes_blob_loc.upload_loc),
    route("/blob/:appKey/download-loc/:name", GET=routes_blob_loc.download_loc),
    route("/blob/:appKey/remove-loc/:name", GET=routes_blob_loc.remove_loc),
    route(
        "/blob/:appKey/:id",
        GET=routes_blob.read_file,
        PUT=routes_blob.save_file,
        DELETE=routes_blob.delete_file,
    ),
    route("/rpc/:appKey/custom/:name", POST=routes_rpc.custom_endpoint),
    route("/rpc/:appKey/user-forgot-username", POST=routes_user_rpc.forgot_username),
    route("/rpc/:appKey/check-username-exists", POST=routes_user_rpc.check_username),
    route(
        "/rpc/:appKey/:username/user-password-reset-initiate",
        POST=routes_user_rpc.password_reset,
    ),
    route(
        "/rpc/:appKey/:username/user-email-verification-initiate",
        POST=routes_user_rpc.email_verification,
    ),
    route("/push/:appKey/register-device", POST=routes_push.register_device),
    route("/push/:appKey/unregister-device", POST=routes_push.unregister_device),
)
