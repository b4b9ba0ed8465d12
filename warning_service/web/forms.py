"""The console's forms (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, html_params

from ..geography.county_search import county_label
from ..geography.named_areas import is_named_area, named_area_codes
from ..hazards import PARAMETER_RULES, HazardCatalogue, action_codes
from ..models import Alert, County, Level, NamedArea
from ..rendering.formatting import LOCAL_TIME
from ..services.translations import TranslationRefused, checked_tibetan
from .i18n import action_name, area_name, counties_named, hazard_name
from .labels import LABELS

LEVEL_CHOICES = [SelectChoice("", _l("none"))] + [SelectChoice(level.value, label) for level, label in LABELS[Level].items()]
# Hazard parameters (hazards.toml `parameters`): one text field each, checked by intake's rules.
PARAMETER_FIELDS: tuple[str, ...] = tuple(PARAMETER_RULES)
PARAMETER_LABELS = {"magnitude": _l("Magnitude"), "depth_km": _l("Depth (km)"),
                    "latitude": _l("Epicentre latitude (°N)"), "longitude": _l("Epicentre longitude (°E)"),
                    "rain_mm": _l("Rain (mm)")}


class CatalogTranslations:
    """WTForms' own messages ("This field is required.") through the console's catalogs, like every other
    text: wtforms ships no Tibetan, and its Chinese would not follow the console's wording."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class ConsoleForm(FlaskForm):
    """Every console form: CSRF from Flask-WTF, messages in the reader's language."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> CatalogTranslations:
            return CatalogTranslations()


class BoxesInLabels:
    """A list of checkboxes, each inside its own <label>: a box and its name are one element, which no
    column or line break can lay out apart (WTForms' ListWidget puts them side by side as siblings)."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        items = (Markup("<li><label>{} <span>{}</span></label></li>").format(option(), option.label.text)
                 for option in field)
        return Markup("<ul {}>{}</ul>").format(Markup(html_params(**kwargs)), Markup("").join(items))


class MultiCheckboxField(SelectMultipleField):
    widget = BoxesInLabels()
    option_widget = CheckboxInput()


class ComposeForm(ConsoleForm):
    """A new alert, or the correction (Update) of a published one when `references` is set."""

    status = RadioField(_l("Kind"), choices=[SelectChoice("Actual", "真实预警 ACTUAL"),
                                           SelectChoice("Exercise", "演练 EXERCISE")],
                        validators=[DataRequired(_l("Choose Actual or Exercise."))])
    hazard = SelectField(_l("Hazard"), validators=[DataRequired()])
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES, default="")
    counties = MultiCheckboxField(_l("Counties"))
    named_areas = MultiCheckboxField(_l("Named areas"))
    circle_lat = DecimalField(_l("latitude"), places=4, validators=[Optional(), NumberRange(26, 36)])
    circle_lon = DecimalField(_l("longitude"), places=4, validators=[Optional(), NumberRange(96, 106)])
    circle_radius_km = DecimalField(_l("radius (km)"), places=1, validators=[Optional(), NumberRange(0, 300)])
    onset = DateTimeLocalField(_l("Onset (Beijing time)"), validators=[Optional()])
    expires = DateTimeLocalField(_l("Expires (Beijing time)"),
                                 validators=[DataRequired(_l("Give the time the warning ends."))])
    headline = StringField(_l("Headline (Chinese)"), validators=[Optional(), Length(max=160)])
    description = TextAreaField(_l("Description (Chinese)"), validators=[Optional(), Length(max=2000)])
    instruction = TextAreaField(_l("Instruction (Chinese)"), validators=[Optional(), Length(max=2000)])
    actions = MultiCheckboxField(_l("Protective actions"))
    instruction_bo = TextAreaField(_l("Instruction (Tibetan, written by you, not reviewed)"),
                                   validators=[Optional(), Length(max=2000)])
    references = HiddenField()

    def validate_instruction_bo(self, field: Field) -> None:
        """Tibetan script only, as the desk checks a proposal: the officer's own words, never made up here."""
        if (field.data or "").strip():
            try:
                field.data = checked_tibetan(field.data)
            except TranslationRefused as refused:
                raise ValidationError(_("Only Tibetan script (with digits, spaces and punctuation).")) from refused

    def action_offers(self) -> dict[str, str]:
        """Per protective action, the hazard:level pairs that offer it (the page shows only the chosen one's)."""
        offers: dict[str, list[str]] = {code: [] for code in self.hazards.protective_actions}
        for hazard in self.hazards:
            for level, codes in hazard.choices.items():
                for code in codes:
                    offers[code].append(f"{hazard.code}:{level}")
        return {code: " ".join(pairs) for code, pairs in offers.items()}

    def parameter_fields(self) -> list[Field]:
        return [getattr(self, name) for name in PARAMETER_FIELDS]

    def offer(self, hazards: HazardCatalogue, counties: list[County], named_areas: list[NamedArea]) -> ComposeForm:
        self.hazards = hazards
        self.hazard.choices = [SelectChoice(hazard.code, hazard_name(hazard.code))
                               for hazard in hazards]
        self.counties.choices = [SelectChoice(county.code, county_label(county)) for county in counties]
        self.actions.choices = [SelectChoice(code, action_name(action))
                                for code, action in hazards.protective_actions.items()]
        self.areas = named_areas
        self.named_areas.choices = [SelectChoice(area.code, _("%(name)s (%(counties)s)", name=area_name(area),
                                                               counties=counties_named(area.county_codes)))
                                    for area in named_areas]
        return self

    def fill_from(self, alert: Alert) -> None:
        """Ready wording for a correction: the alert as it stands, to edit."""
        self.status.data = alert.status.value
        self.hazard.data = alert.hazard_code
        self.level.data = alert.level.value if alert.level else ""
        self.named_areas.data = named_area_codes(alert.area.get("geocodes", []))
        # With named areas, only the counties it named outright: every county a named area touches would
        # widen a warning for a valley to whole counties.
        named_outright = {value for name, value in alert.area.get("geocodes", []) if not is_named_area(name)}
        self.counties.data = ([code for code in alert.county_codes if code in named_outright]
                              if self.named_areas.data else alert.county_codes)
        self.onset.data = _local(alert.onset)
        self.expires.data = _local(alert.expires)
        for name in PARAMETER_FIELDS:
            getattr(self, name).data = alert.parameters.get(name, "")
        for name in ("headline", "description", "instruction"):
            getattr(self, name).data = getattr(alert, name).get("zh", "")
        self.instruction_bo.data = alert.instruction.get("bo", "")
        self.actions.data = list(action_codes(alert.parameters))
        self.references.data = alert.cap_reference

    def alert_json(self) -> dict[str, Any]:
        """The alert in the agency API's JSON form, so the console's alerts pass the same rules."""
        area: dict[str, Any] = {}
        if self.counties.data:
            area["counties"] = list(self.counties.data)
        if self.named_areas.data:
            area["named_areas"] = list(self.named_areas.data)
        if None not in (self.circle_lat.data, self.circle_lon.data, self.circle_radius_km.data):
            area["circle"] = {"lat": float(self.circle_lat.data), "lon": float(self.circle_lon.data),
                              "radius_km": float(self.circle_radius_km.data)}
        body: dict[str, Any] = {
            "status": self.status.data, "hazard": self.hazard.data, "area": area,
            "expires": _aware(self.expires.data),
            "parameters": self._parameters(),
        }
        if self.level.data:
            body["level"] = self.level.data
        if self.onset.data:
            body["onset"] = _aware(self.onset.data)
        for name in ("headline", "description", "instruction"):
            if text := (getattr(self, name).data or "").strip():
                body[name] = {"zh": text}
        if bo := (self.instruction_bo.data or "").strip():
            body.setdefault("instruction", {})["bo"] = bo
        if self.actions.data:
            body["actions"] = list(self.actions.data)
        if self.references.data:
            body["msg_type"] = "Update"
            body["references"] = [self.references.data]
        return body

    def _parameters(self) -> dict[str, str]:
        """The chosen hazard's own parameters that were filled in (a field hidden for another hazard is dropped)."""
        hazard = self.hazards.get(self.hazard.data or "")
        defined = hazard.parameters if hazard else ()
        return {name: text for name in defined if (text := (getattr(self, name).data or "").strip())}


for _name in PARAMETER_FIELDS:  # ComposeForm.magnitude, .depth_km, ...: text, as intake reads CAP parameters
    setattr(ComposeForm, _name, StringField(PARAMETER_LABELS[_name], validators=[Optional(), Length(max=20)]))
del _name


def _aware(local: datetime) -> str:
    return local.replace(tzinfo=LOCAL_TIME).isoformat()


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(LOCAL_TIME).replace(tzinfo=None, second=0, microsecond=0) if moment else None
