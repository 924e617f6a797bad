"""A realistic synthetic biller directory, reproducible from a seed."""

from __future__ import annotations

import random
from collections.abc import Iterator

from cbp.services.commands import AddGlobalPayee, Address

_BRANDS = (
    "Pioneer",
    "Summit",
    "Blue Ridge",
    "Evergreen",
    "Liberty",
    "Heritage",
    "Keystone",
    "Pacific",
    "Atlantic",
    "Great Lakes",
    "Prairie",
    "Cascade",
    "Granite",
    "Harbor",
    "Sterling",
    "Frontier",
    "Golden State",
    "Lone Star",
    "Bay Area",
    "Twin Cities",
    "Capital",
    "Coastal",
    "Mountain View",
    "River Valley",
    "Sunbelt",
    "Northstar",
    "Southern",
    "Midwest",
    "Tri-County",
    "First National",
    "Patriot",
    "Pinnacle",
)
_CITIES = (
    ("Springfield", "IL", "627"),
    ("Columbus", "OH", "432"),
    ("Austin", "TX", "787"),
    ("Denver", "CO", "802"),
    ("Portland", "OR", "972"),
    ("Raleigh", "NC", "276"),
    ("Phoenix", "AZ", "850"),
    ("Madison", "WI", "537"),
    ("Boise", "ID", "837"),
    ("Richmond", "VA", "232"),
    ("Tampa", "FL", "336"),
    ("Omaha", "NE", "681"),
    ("Albany", "NY", "122"),
    ("Fresno", "CA", "937"),
    ("Tulsa", "OK", "741"),
    ("Hartford", "CT", "061"),
    ("Reno", "NV", "895"),
    ("Savannah", "GA", "314"),
)
#: (kind of biller, category, lead days, mask patterns)
_KINDS = (
    ("Electric", "utilities", 2, ("9999999999", "99999999999")),
    ("Gas & Electric", "utilities", 2, ("9999999999",)),
    ("Natural Gas", "utilities", 2, ("999999999999",)),
    ("Water Department", "utilities", 3, ("99999999", "A9999999")),
    ("Sewer Authority", "utilities", 3, ("99999999",)),
    ("Waste Management", "utilities", 3, ("999999999",)),
    ("Cable", "telecom", 2, ("9999999999999999",)),
    ("Wireless", "telecom", 1, ("999999999",)),
    ("Broadband", "telecom", 2, ("XXXXXXXXXX",)),
    ("Credit Card Services", "credit_card", 1, ("9999999999999999",)),
    ("Auto Finance", "loan", 3, ("999999999999",)),
    ("Mortgage", "mortgage", 3, ("9999999999",)),
    ("Student Loans", "loan", 3, ("AA99999999",)),
    ("Insurance", "insurance", 3, ("AAA999999999",)),
    ("Life Insurance", "insurance", 3, ("A99999999",)),
    ("Medical Group", "healthcare", 5, ()),
    ("Hospital", "healthcare", 5, ("99999999",)),
    ("Dental Associates", "healthcare", 5, ()),
    ("Property Tax", "government", 5, ("999999999",)),
    ("Fitness Club", "membership", 3, ()),
)
_SUFFIXES = ("", "", " Company", " Co.", " Inc.", " LLC", " Services", " Corporation")
_STREETS = ("Main St", "Market St", "Oak Ave", "Commerce Dr", "Center Blvd", "Park Pl", "Elm St")


def generate_billers(count: int, *, seed: int) -> Iterator[AddGlobalPayee]:
    """``count`` plausible billers; the same seed always gives the same list."""
    rng = random.Random(seed)
    for _ in range(count):
        brand = rng.choice(_BRANDS)
        city, state, zip_prefix = rng.choice(_CITIES)
        kind, category, lead_days, masks = rng.choice(_KINDS)
        place = rng.choice((brand, city, f"{brand} {city}"))
        name = f"{place} {kind}{rng.choice(_SUFFIXES)}"
        initials = "".join(word[0] for word in f"{place} {kind}".split() if word[0].isalpha())
        aliases = tuple(
            dict.fromkeys(a for a in (initials.upper(), f"{place} {kind}") if a != name)
        )
        yield AddGlobalPayee(
            name=name,
            category=category,
            aliases=aliases[: rng.randint(0, len(aliases))],
            address=Address(
                line1=f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
                line2=rng.choice((None, None, f"Suite {rng.randint(100, 999)}")),
                city=city,
                state=state,
                postal_code=f"{zip_prefix}{rng.randint(0, 99):02d}",
            ),
            payment_method=rng.choice(("electronic", "electronic", "electronic", "check")),
            lead_days=lead_days + rng.choice((0, 0, 1)),
            account_masks=masks,
            actor="directory-generator",
        )
