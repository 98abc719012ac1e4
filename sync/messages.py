"""Words a circulator understands for every validation ``message_key``, in English and Spanish.

``message(error, lang)`` fills a template with the error's params plus ``{label}``, the field's
name in that language. These strings are for the circulator's own screen only (a ZIP may be
shown back to them); logs and the wire use ``protocol.REASON_TEXT`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from sync.protocol import REASON_TEXT
from sync.validation import FieldError

DEFAULT_LANG = "en"

FIELD_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "section": "section serial number",
        "line": "line number",
        "first_name": "first name",
        "middle_name": "middle name",
        "last_name": "last name",
        "suffix": "suffix",
        "street": "street address",
        "unit": "apartment or unit",
        "city": "city",
        "zip": "ZIP code",
        "phone": "phone number",
        "email": "email address",
        "notes": "notes",
        "captured_at": "capture time",
        "entry_id": "entry id",
        "supersedes": "corrected entry id",
    },
    "es": {
        "section": "número de serie de la sección",
        "line": "número de línea",
        "first_name": "nombre",
        "middle_name": "segundo nombre",
        "last_name": "apellido",
        "suffix": "sufijo",
        "street": "dirección",
        "unit": "apartamento o unidad",
        "city": "ciudad",
        "zip": "código postal",
        "phone": "teléfono",
        "email": "correo electrónico",
        "notes": "notas",
        "captured_at": "hora de captura",
        "entry_id": "identificador del registro",
        "supersedes": "identificador del registro corregido",
    },
}

# Jurisdiction names as a circulator says them; unknown names fall back to a title-cased name.
JURISDICTION_NAMES: dict[str, dict[str, str]] = {
    "en": {"los_angeles_county": "Los Angeles County"},
    "es": {"los_angeles_county": "condado de Los Ángeles"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "required.first_name": "Enter the signer's first name.",
        "required.last_name": "Enter the signer's last name.",
        "required.street": "Enter the signer's street address.",
        "required.city": "Enter the signer's city.",
        "required.zip": "Enter the signer's ZIP code.",
        "too_long": "Shorten the {label} to at most {max} characters.",
        "control_chars": "Hidden characters were found in the {label}. Please retype it.",
        "name.implausible": "The {label} should contain letters only (spaces, hyphens and "
                            "apostrophes are fine).",
        "suffix.implausible": "Use a suffix such as Jr., Sr. or III, or leave it empty.",
        "street.implausible": "Start the street address with the house number, "
                              "for example 200 N Spring St. A PO box is not a home address.",
        "city.implausible": "The city should contain letters only, for example Pasadena.",
        "zip.invalid": "Enter a 5-digit ZIP code, for example 90012 (ZIP+4 is fine too).",
        "zip.outside": "ZIP {zip} is outside {jurisdiction}. Only people who live in "
                       "{jurisdiction} can sign this petition.",
        "phone.invalid": "Enter a 10-digit US phone number, for example (213) 555-0100, "
                         "or leave it empty.",
        "email.invalid": "Enter an email address like name@example.com, or leave it empty.",
        "line.invalid": "Enter the line number printed on the petition, from 1 to {max}.",
        "line.used": "Line {line} of this section is already used. Check the line number "
                     "on the paper.",
        "section.invalid": "Enter the section serial number as printed on the petition: "
                           "letters, digits and hyphens, at most {max} characters.",
        "captured_at.invalid": "The time of this entry is unclear. Check the device's date, "
                               "time and time zone settings.",
        "entry_id.invalid": "This entry's record is damaged. Ask your team lead for help.",
    },
    "es": {
        "required.first_name": "Escriba el nombre del firmante.",
        "required.last_name": "Escriba el apellido del firmante.",
        "required.street": "Escriba la dirección del firmante.",
        "required.city": "Escriba la ciudad del firmante.",
        "required.zip": "Escriba el código postal del firmante.",
        "too_long": "El campo «{label}» es demasiado largo. Use como máximo {max} caracteres.",
        "control_chars": "El campo «{label}» contiene caracteres ocultos. Escríbalo de nuevo.",
        "name.implausible": "El campo «{label}» solo debe contener letras (se permiten "
                            "espacios, guiones y apóstrofos).",
        "suffix.implausible": "Use un sufijo como Jr., Sr. o III, o déjelo vacío.",
        "street.implausible": "Empiece la dirección con el número de la casa, por ejemplo "
                              "200 N Spring St. Un apartado postal no es una dirección de domicilio.",
        "city.implausible": "La ciudad solo debe contener letras, por ejemplo Pasadena.",
        "zip.invalid": "Escriba un código postal de 5 dígitos, por ejemplo 90012 "
                       "(también se acepta ZIP+4).",
        "zip.outside": "El código postal {zip} está fuera del área de esta petición "
                       "({jurisdiction}). Solo pueden firmarla quienes viven en esa área.",
        "phone.invalid": "Escriba un teléfono de EE. UU. de 10 dígitos, por ejemplo "
                         "(213) 555-0100, o déjelo vacío.",
        "email.invalid": "Escriba un correo como nombre@ejemplo.com, o déjelo vacío.",
        "line.invalid": "Escriba el número de línea impreso en la petición, del 1 al {max}.",
        "line.used": "La línea {line} de esta sección ya está usada. Revise el número de línea "
                     "en el papel.",
        "section.invalid": "Escriba el número de serie de la sección tal como está impreso: "
                           "letras, dígitos y guiones, como máximo {max} caracteres.",
        "captured_at.invalid": "La hora de este registro no está clara. Revise la fecha, la hora "
                               "y la zona horaria del dispositivo.",
        "entry_id.invalid": "El registro está dañado. Pida ayuda a su líder de equipo.",
    },
}

LANGUAGES: tuple[str, ...] = tuple(MESSAGES)


class _KeepMissing(dict):
    # A template naming a param the error lacks shows "{name}" instead of raising mid-screen.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _jurisdiction_label(name: str, lang: str) -> str:
    return JURISDICTION_NAMES.get(lang, {}).get(name) or name.replace("_", " ").title()


def message(error: FieldError, lang: str = DEFAULT_LANG) -> str:
    """The circulator-facing text of ``error`` in ``lang`` ("en" or "es"; others fall back to en)."""
    if lang not in MESSAGES:
        lang = DEFAULT_LANG
    template = MESSAGES[lang].get(error.message_key) or MESSAGES[DEFAULT_LANG].get(error.message_key)
    if template is None:
        # An unknown key is a programming error; the code's catalogue text is still meaningful.
        return REASON_TEXT.get(error.code, error.message_key)
    params: dict[str, object] = dict(error.params)
    labels = FIELD_LABELS[lang]
    params["label"] = labels.get(error.field, error.field)
    if "jurisdiction" in params:
        params["jurisdiction"] = _jurisdiction_label(str(params["jurisdiction"]), lang)
    return template.format_map(_KeepMissing(params))


def messages_for(errors: list[FieldError], lang: str = DEFAULT_LANG) -> Mapping[str, str]:
    """field wire name -> message, for a form that shows one message under each box."""
    return {error.field: message(error, lang) for error in errors}
