from tests.emulator.emulator_helpers import Api


async def test_handshake_and_crud(api: Api) -> None:
    hello = await api.call("GET", "/appdata/")
    assert hello.status == 200 and hello.json["kinvey"] == "hello"
    token = await api.session(3, "alice")
    created = await api.call(
        "POST", f"/appdata/{api.key}/books", version=3, auth=token, body={"title": "A"}
    )
    assert created.status == 201, created.raw
    print(created.json, dict(created.headers))
