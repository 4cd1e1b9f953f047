"""mitmproxy entry point: ``mitmdump -s addons/gateway.py`` (or ``mitmweb -s ...``).

mitmproxy loads this file as a script, outside any package, so it only makes the
project importable and lists the addons; the code lives in importable modules (a
dataclass defined in a script module cannot even be created).
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from addons.gateway_addon import Gateway  # noqa: E402
from addons.relay import Relay  # noqa: E402
from addons.responses_state import ResponsesState  # noqa: E402
from addons.rules_file import RulesFile  # noqa: E402

rules_file = RulesFile()
state = ResponsesState()
relay = Relay()
addons = [rules_file, state, relay, Gateway(rules_file, state, relay)]
