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

from addons.flow_bodies import KeepOriginals, KeepStreams  # noqa: E402
from addons.gateway_addon import Gateway  # noqa: E402
from addons.gateway_keys import GatewayKeys  # noqa: E402
from addons.gateway_log import GatewayLog  # noqa: E402
from addons.intercept import InterceptHosts  # noqa: E402
from addons.llm_view import LLMViewAddon  # noqa: E402
from addons.metrics import GatewayMetrics  # noqa: E402
from addons.models import ModelList  # noqa: E402
from addons.ops_endpoints import OpsEndpoints  # noqa: E402
from addons.passthrough import Passthrough  # noqa: E402
from addons.relay import Relay  # noqa: E402
from addons.responses_state import ResponsesState  # noqa: E402
from addons.rules_file import RulesFile  # noqa: E402

rules_file = RulesFile()
state = ResponsesState()
# Operations (issue 10): /health and /metrics answer first, then gateway keys; both
# hear of every exchange the gateway logs (metrics, tokens per minute).
metrics = GatewayMetrics()
keys = GatewayKeys(rules_file, listeners=(metrics.observe,))
originals = KeepOriginals()
relay = Relay()
addons = [
    rules_file,
    state,
    InterceptHosts(rules_file),
    GatewayLog(),
    OpsEndpoints(rules_file, state, metrics),
    keys,
    ModelList(rules_file),  # answers model lists before the gateway sees them
    Passthrough(rules_file),  # /p/{provider}/...: claimed before the gateway sees it
    relay,
    originals,  # before the gateway: sees bodies before translation
    Gateway(rules_file, state, listeners=(metrics.observe, keys.record_usage), relay=relay),
    KeepStreams(originals),  # after the gateway: wraps the stream callable it set
    LLMViewAddon(),
]
