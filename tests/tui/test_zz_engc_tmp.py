from .test_primer_picker import *  # noqa
from .test_mcp_screen import mcp_workspace, servers_settled, open_mcp_screen  # noqa

async def test_small(make_app, primers, mcp_workspace):
    async with make_app().run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        screen = await open_picker(pilot, "x", highlight="broken")
        await pilot.pause(0.3)
        pilot.app.save_screenshot("/tmp/small_picker.svg")
