"""The administrators' page of named areas (/admin/areas): the list, adding one from an uploaded GeoJSON
polygon or from a centre and radius, and deactivating one.

Only admins; the same rules and ledger entries as `flask areas` (services/named_areas.py). A refusal
redisplays the form with the reason in the admin's language (4xx).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..extensions import db
from ..intake.limits import IntakeLimits
from ..models import NamedArea, Role
from ..models.named_area import MAX_ACCURACY, MAX_CODE, MAX_NAME_BO, MAX_NAME_EN, MAX_NAME_ZH
from ..services import named_areas as registry
from .auth import roles_required
from .forms import ConsoleForm

admin_areas = Blueprint("admin_areas", __name__)

# The registry's refusals (services/named_areas.py REFUSAL_TEXTS) in the admin's language, by code.
REFUSALS = {
    "code_malformed": _l("A code has 2 to 40 characters: lowercase Latin letters, digits, '-' or '_', beginning with "
                         "a letter."),
    "code_taken": _l("The code is already the named area %(name)s; codes are never reused."),
    "name_length": _l("A name has %(min)s to %(max)s characters."),
    "name_taken": _l("An active named area is already called %(name)s."),
    "source_missing": _l("Say where the shape comes from."),
    "accuracy_length": _l("Say how exact the shape is, in at most %(max)s characters."),
    "shape_missing": _l("Give the shape: a GeoJSON file, or a centre and a radius."),
    "shape_twice": _l("Give either a GeoJSON file or a centre and a radius, not both."),
    "geojson_malformed": _l("The file is not valid GeoJSON text."),
    "geojson_not_polygon": _l("The GeoJSON must hold one polygon or multipolygon (bare, or as a single feature)."),
    "geojson_features": _l("The feature collection must hold exactly one feature; it has %(count)s."),
    "polygon_holes": _l("A named area's polygon has no holes, which warnings cannot carry; this one has %(count)s."),
    "too_many_points": _l("At most %(allowed)s points; this shape has %(count)s."),
    "position_malformed": _l("Point %(index)s is not a longitude and latitude in range."),
    "ring_not_closed": _l("An outline needs at least 4 points, the last repeating the first; this one has %(count)s."),
    "polygon_invalid": _l("The outline crosses itself or is otherwise not a simple polygon; it is not repaired: "
                          "upload a corrected one."),
    "shape_outside": _l("The shape lies outside Garzê and Ngawa: it covers none of their 31 counties."),
    "latitude_out_of_range": _l("The latitude %(value)s is not between -90 and 90."),
    "longitude_out_of_range": _l("The longitude %(value)s is not between -180 and 180."),
    "radius_out_of_range": _l("A radius is more than 0 and at most %(max)s km."),
    "named_area_inactive": _l("The named area %(area)s is already inactive."),
}
# The form field under which each refused input's reason shows.
_FIELDS = {"centre": "centre_lat"}


class NamedAreaForm(ConsoleForm):
    code = StringField(_l("Code agencies send (Latin letters, e.g. hailuogou)"),
                       validators=[DataRequired(), Length(max=MAX_CODE)])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=MAX_NAME_ZH)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=MAX_NAME_EN)])
    name_bo = StringField(_l("Tibetan name (only from a sourced glossary entry; else empty)"),
                          validators=[Optional(), Length(max=MAX_NAME_BO)])
    geojson = FileField(_l("Its outline: a GeoJSON file with one polygon"))
    centre_lat = DecimalField(_l("or the centre's latitude"), places=5, validators=[Optional()])
    centre_lon = DecimalField(_l("and longitude"), places=5, validators=[Optional()])
    radius_km = DecimalField(_l("and a radius (km)"), places=2, validators=[Optional()])
    source = TextAreaField(_l("Where the shape comes from"), validators=[DataRequired(), Length(max=2000)])
    accuracy = StringField(_l("How exact it is (e.g. approximate: circle of 8 km around the centre; or surveyed)"),
                           validators=[DataRequired(), Length(max=MAX_ACCURACY)])

    def centre(self) -> tuple[float, float] | None:
        """Both coordinates, or none (the registry then asks for the whole shape)."""
        if self.centre_lat.data is None or self.centre_lon.data is None:
            return None
        return float(self.centre_lat.data), float(self.centre_lon.data)


def refusal_text(refused: registry.NamedAreaRefused) -> str:
    return str(REFUSALS[refused.code]) % refused.details


def _page(form: NamedAreaForm | None = None, problems: list[str] = ()) -> str:
    return render_template("admin/areas.html", areas=registry.named_areas(db.session), form=form or NamedAreaForm(),
                           problems=list(problems))


@admin_areas.get("/")
@roles_required(Role.ADMIN)
def index():
    return _page()


@admin_areas.post("/")
@roles_required(Role.ADMIN)
def add():
    form = NamedAreaForm()
    if not form.validate_on_submit():
        return _page(form), 422
    upload = form.geojson.data
    try:
        geojson = upload.read().decode("utf-8-sig") if upload else None
    except UnicodeDecodeError:
        return _page(form, [_("The file is not UTF-8 text; save the GeoJSON as UTF-8.")]), 422
    try:
        area = registry.add_named_area(
            db.session, current_user._get_current_object(), "console", code=form.code.data, name_zh=form.name_zh.data,
            name_en=form.name_en.data, name_bo=form.name_bo.data, source=form.source.data,
            accuracy=form.accuracy.data, limits=IntakeLimits.from_settings(current_app.config), geojson=geojson,
            centre=form.centre(), radius_km=None if form.radius_km.data is None else float(form.radius_km.data))
    except registry.NamedAreaRefused as refused:
        db.session.rollback()
        getattr(form, _FIELDS.get(refused.field, refused.field)).errors.append(refusal_text(refused))
        return _page(form), 409 if refused.conflict else 422
    db.session.commit()
    flash(_("Named area %(name)s added.", name=area.name_zh), "ok")
    return redirect(url_for("admin_areas.index"), 303)


@admin_areas.post("/<int:area_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(area_id: int):
    area = db.session.get(NamedArea, area_id)
    if area is None:
        abort(404, _("Nothing with the number %(id)s here.", id=area_id))
    try:
        registry.deactivate_named_area(db.session, current_user._get_current_object(), "console", area)
    except registry.NamedAreaRefused as refused:
        db.session.rollback()
        return _page(problems=[refusal_text(refused)]), 409
    db.session.commit()
    flash(_("%(name)s deactivated: no new alert can name it; alerts that did keep it.", name=area.name_zh), "ok")
    return redirect(url_for("admin_areas.index"), 303)
