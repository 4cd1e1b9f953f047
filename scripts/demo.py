"""The gateway at work without any API key (run it as ``scripts/demo``).

Starts the test suite's fake providers and a real mitmdump with the addon in front of
them, then makes one call with each official SDK through a converter route to a
provider of *another* protocol, printing what the caller asked, what reached the
provider and what came back.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.e2e.clients import anthropic_client, gemini_client, openai_client
from tests.fakes import FakeUpstream
from tests.harness import rules_yaml, start_gateway

PROMPT = "Say hello in five words."


def show(title: str, asked: dict, fake: FakeUpstream, answer: str) -> None:
    got = fake.last
    print(f"\n=== {title}")
    print("caller asked:     ", json.dumps(asked))
    print(f"provider received: {got.method} {got.path}")
    print("                  ", got.body.decode()[:400])
    print("caller got:       ", answer[:300])


def main() -> None:
    fakes = {name: FakeUpstream(name).start() for name in ("openai", "anthropic", "gemini")}
    workdir = Path(tempfile.mkdtemp(prefix="gateway-demo-"))
    rules = workdir / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    gateway = start_gateway(rules, workdir / "mitmdump.log")
    try:
        asked = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": PROMPT}]}
        reply = openai_client(gateway, "/openai").chat.completions.create(**asked)
        show(
            "OpenAI SDK -> /openai/v1/chat/completions -> Anthropic",
            asked,
            fakes["anthropic"],
            repr(reply.choices[0].message.content),
        )

        asked = {
            "model": "gemini-2.5-flash",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": PROMPT}],
        }
        message = anthropic_client(gateway, "/anthropic").messages.create(**asked)
        show(
            "Anthropic SDK -> /anthropic/v1/messages -> Gemini",
            asked,
            fakes["gemini"],
            repr(message.content[0].text),
        )

        asked = {"model": "gpt-4o-mini", "contents": PROMPT}
        result = gemini_client(gateway, "/gemini").models.generate_content(**asked)
        show(
            "Google Gen AI SDK -> /gemini/v1beta/models/...:generateContent -> OpenAI",
            asked,
            fakes["openai"],
            repr(result.text),
        )

        print("\nGateway log lines:")
        for line in gateway.log().splitlines():
            if "gateway {" in line:
                print(" ", line[line.index("gateway {") :].strip())
    finally:
        gateway.stop()
        for fake in fakes.values():
            fake.stop()


if __name__ == "__main__":
    main()
