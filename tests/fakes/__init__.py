"""Local fake provider upstreams (OpenAI, Anthropic, Gemini) for end-to-end tests.

``FakeUpstream(protocol).start()`` serves on 127.0.0.1, records every request in
``received`` and answers from a FIFO of scripted ``Reply`` objects, or, when none is
queued, like the real service: it checks credentials and the request body the way the
provider does and answers with a spec example.
"""

from tests.fakes.hostile import Hostile
from tests.fakes.replies import Received, Reply
from tests.fakes.server import FakeUpstream

__all__ = ["FakeUpstream", "Hostile", "Received", "Reply"]
