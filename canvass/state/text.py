"""A message held by state as a catalogue key plus parameters, rendered by views in the
current language (so switching language re-renders messages already on screen).

Parameters named ``<name>_key`` are catalogue keys themselves and are rendered into
``<name>``; ``jurisdiction_name`` becomes ``jurisdiction`` in the language's wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from canvass.i18n import jurisdiction_label, t


@dataclass(frozen=True)
class Text:
    key: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str) -> str:
        params = {}
        for name, value in self.params.items():
            if name.endswith("_key"):
                params[name[:-4]] = t(str(value), lang)
            elif name == "jurisdiction_name":
                params["jurisdiction"] = jurisdiction_label(str(value), lang)
            else:
                params[name] = value
        return t(self.key, lang, **params)


def txt(key: str, **params: object) -> Text:
    return Text(key, dict(params))
