"""Drive aionut (Home Assistant's NUT client) against a upsd and report what it saw.

usage: aionut_peer.py HOST PORT SIGNAL_DIR

Prints one JSON object per line: {"step": NAME, "ok": RESULT} or {"step": NAME, "exc": CLASS, "msg": TEXT}.
Judging is left to the Rust test (tests/compat/tests/real_scripted.rs), which owns the fixture.

Two pauses let the test change the server under a live, persistent client: after {"step": "pause-drop"}
the test restarts upsd (so the client's connection dies) and creates SIGNAL_DIR/pause-drop; after
{"step": "pause-stale"} it makes the `dummy` driver stale and creates SIGNAL_DIR/pause-stale.
"""

import asyncio
import json
import os
import sys
import time

from aionut import AIONUTClient


def emit(obj):
    # list_commands returns a set: report it sorted so the output is stable.
    print(json.dumps(obj, default=sorted), flush=True)


async def step(name, coro):
    try:
        emit({"step": name, "ok": await coro})
    except Exception as ex:  # the test wants to see every failure class, not crash on the first
        emit({"step": name, "exc": type(ex).__name__, "msg": str(ex)})


async def wait_for_test(signal_dir, name):
    emit({"step": name})
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(signal_dir, name)):
        if time.monotonic() > deadline:
            raise SystemExit("the test never released " + name)
        await asyncio.sleep(0.02)


async def main(host, port, signal_dir):
    anon = AIONUTClient(host, port, None, None, 5, True)
    await step("list_ups", anon.list_ups())
    await step("description", anon.description("dummy"))
    await step("list_vars", anon.list_vars("dummy"))
    await step("list_commands", anon.list_commands("dummy"))
    await step("run_command_anon", anon.run_command("dummy", "load.off"))
    await step("list_vars_unknown", anon.list_vars("nosuch"))

    admin = AIONUTClient(host, port, "admin", "adminpass", 5, True)
    await step("run_command_admin", admin.run_command("dummy", "load.off"))
    admin.shutdown()

    wrong = AIONUTClient(host, port, "admin", "wrongpass", 5, True)
    await step("run_command_wrong_password", wrong.run_command("dummy", "load.off"))
    wrong.shutdown()

    # The same persistent client must survive the server dropping its connection: aionut retries once.
    writer_before = id(anon._writer)
    await wait_for_test(signal_dir, "pause-drop")
    await step("list_ups_after_drop", anon.list_ups())
    emit({"step": "reconnected", "ok": id(anon._writer) != writer_before})

    await wait_for_test(signal_dir, "pause-stale")
    await step("list_vars_stale", anon.list_vars("dummy"))
    await step("list_ups_stale", anon.list_ups())
    anon.shutdown()
    emit({"step": "done", "ok": True})


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
