"""``python -m cpppo.server.enip.weather [--url URL] [--key KEY] CITY=REAL ...``: tags that read as the
current temperature of the city they are named after (seed 2.1.4).

Each read of a tag asks a weather service for the city's temperature: ``GET URL?q=CITY&appid=KEY
&units=metric``, whose JSON answer holds it at ``main.temp`` (the OpenWeatherMap shape; point
``--url`` at any service that answers so, or set ``CPPPO_WEATHER_URL`` / ``CPPPO_WEATHER_KEY``).
A custom attribute is served from the host's thread pool, so a slow service holds up only the
client waiting for it; a failed fetch fails that read with a CIP error status (0xFF) instead of
stalling anyone.  Writing a temperature is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from . import REAL, device
from .main import main as enip_main

__all__ = ["Attribute_weather", "main"]

DEFAULT_URL = "https://api.openweathermap.org/data/2.5/weather"


class Attribute_weather(device.Attribute):
    """A tag whose value is the temperature of the city it is named after, fetched per read."""

    url = os.environ.get("CPPPO_WEATHER_URL", DEFAULT_URL)
    key = os.environ.get("CPPPO_WEATHER_KEY", "")
    timeout = 5.0

    def temperature(self) -> float:
        query = urllib.parse.urlencode({"q": self.name, "appid": self.key, "units": "metric"})
        with urllib.request.urlopen(f"{self.url}?{query}", timeout=self.timeout) as reply:
            data = json.loads(reply.read().decode("utf-8"))
        return float(data["main"]["temp"])

    def __getitem__(self, key: Any) -> Any:
        temperature = self.temperature()  # an exception here: the client's read fails, 0xFF
        value = temperature if isinstance(self.parser, REAL) else round(temperature)
        return [value] * len(range(*key.indices(len(self)))) if self._validate_key(key) is slice else value

    def __setitem__(self, key: Any, value: Any) -> None:
        raise Exception("Changing the weather isn't that easy...")


def main(argv: Sequence[str] | None = None, **kwds: Any) -> int:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--url", default=None)
    ap.add_argument("--key", default=None)
    ours, rest = ap.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    attribute = type("Attribute_weather", (Attribute_weather,), {
        "url": ours.url or Attribute_weather.url, "key": ours.key if ours.key is not None else Attribute_weather.key})
    return enip_main(rest, attribute_class=attribute, **kwds)


if __name__ == "__main__":
    sys.exit(main())
