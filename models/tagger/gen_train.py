"""Generate the tagger's training data (corpus-schema JSONL) deterministically.

Two sources, both synthetic:

1. The development corpus generator (`../shared/corpora/dev/gen_dev.py`, Faker,
   24 locales) run with *other* seeds, keeping only records whose template is
   in the tuning part of the split the dev-corpus test uses (FNV-1a of the
   template id, `hash % 5 != 0`): the held-out templates are never trained on.
   Records holding an account export are left out (their cells are labelled
   `account_export`, not by the kind the tagger learns).
2. This file's own templates: other sentence shapes for names, addresses and
   birth dates, and many hard negatives (tool, plan, step and tag names,
   cities named in a launch, brand names that are first names, event dates).

Faker dates some values from today (an age becomes a birth date, and so a
Swedish or Finnish personal number): the generators run with the clock
frozen at TRAINED_ON, so the data, and the model, come out the same on any
day.

Run from the repository root with the pinned packages (requirements.txt):

    python models/tagger/gen_train.py models/tagger/data/train.jsonl
"""

import json
import random
import sys
from pathlib import Path

from faker import Faker
from freezegun import freeze_time

ROOT = Path(__file__).resolve().parents[2]
DEV_DIR = ROOT.parent / "shared" / "corpora" / "dev"
DEV_SEEDS = [101, 202, 303]
OWN_RECORDS = 6000
SEED = 14
# The day the committed model was trained: the generators' "today".
TRAINED_ON = "2026-11-30"


def held_out(template: str) -> bool:
    """The dev-corpus test's split: FNV-1a 64 of the template id, 1 in 5."""
    h = 0xCBF29CE484222325
    for b in template.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % 5 == 0


def template_of(source: str) -> str:
    return source.split("template ", 1)[1].split()[0]


def dev_records():
    sys.path.insert(0, str(DEV_DIR))
    import gen_dev  # noqa: E402  (the shared generator, read-only)

    for seed in DEV_SEEDS:
        records, _ = gen_dev.build(seed)
        for r in records:
            if held_out(template_of(r["source"])):
                continue
            if any(s["kind"] == "account_export" for s in r["sensitive"]):
                continue
            yield {"text": r["text"], "sensitive": r["sensitive"], "source": f"gen_dev seed {seed} {template_of(r['source'])}"}


LOCALES = ["en_US", "en_GB", "en_IE", "en_AU", "en_CA", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CA",
           "it_IT", "es_ES", "es_MX", "pt_BR", "pt_PT", "nl_NL", "pl_PL", "sv_SE", "da_DK", "fi_FI",
           "cs_CZ", "tr_TR", "no_NO", "ro_RO", "hu_HU", "en_NZ"]

TOOLS = ["Zapier", "Make", "HubSpot", "GoHighLevel", "Kajabi", "Stripe", "Calendly", "Shopify",
         "ActiveCampaign", "Active Campaign", "Teachable", "Typeform", "Google Sheets", "Google Forms",
         "Mailchimp", "ConvertKit", "Kit", "Klaviyo", "Brevo", "Pipedrive", "Airtable", "Notion",
         "Slack", "Zoom", "Thinkific", "Webflow", "WordPress", "WooCommerce", "SamCart", "ThriveCart",
         "PayPal", "Keap", "Close", "Copper", "Zoho", "Monday", "ClickUp", "Jotform", "Tally",
         "Paddle", "Gumroad", "Podia", "Circle", "Skool", "Systeme.io", "ManyChat", "Pabbly Connect",
         "Integrately", "n8n", "Dubsado", "HoneyBook", "Acuity", "Kartra", "Ontraport", "Jasper",
         "Otto", "Ruby", "Alexa", "Wix", "Squarespace", "Lemon Squeezy", "Outseta", "MemberSpace",
         "Mighty Networks", "Leadpages", "Unbounce", "ClickFunnels", "Carrd", "Beehiiv", "Substack",
         "Sendy", "Postmark", "Twilio", "Aircall", "Intercom", "Crisp", "Tidio", "Freshdesk", "Help Scout"]
PLANS = ["Gold Plan", "Pro Plan", "Starter", "Premium Membership", "VIP Coaching", "Founders Circle",
         "Inner Circle", "Business Accelerator", "Scale Up Program", "Launch Lab", "Growth Sprint",
         "Mastermind", "Elite Tier", "Basic Monthly", "Annual Pro", "Agency Unlimited"]
STEPS = ["Find Contact", "Create Deal", "Update Person", "Add Tag", "Send Email", "Formatter by Zapier",
         "Paths A", "Filter by Zapier", "Lookup Spreadsheet Row", "Create Subscriber", "New Order",
         "Payment Succeeded", "Invitee Created", "New Form Entry", "Add to Sequence", "Wait Step",
         "If/Else Branch", "Webhook Trigger", "Router", "Iterator", "Text Parser"]
TAGS = ["VIP", "Lead Magnet", "Hot Lead", "Black Friday", "Cyber Monday", "Webinar Attended",
        "Cart Abandoned", "Customer Won", "Cold", "Nurture", "LEAD-Q1-2025", "vip_jan25", "New Client",
        "Discovery Call Booked", "No Show", "Course Buyer", "Spring Launch", "Summer Sale"]
FIELDS = ["First Name", "Last Name", "Full Name", "Company Name", "Street Address", "Date of Birth",
          "Phone Number", "Billing Address", "Shipping Address", "Contact Owner", "Lead Source"]
CITIES = ["Berlin", "Paris", "Madrid", "London", "Dublin", "Sydney", "Toronto", "Vienna", "Zurich",
          "Lisbon", "Amsterdam", "Warsaw", "Stockholm", "Copenhagen", "Helsinki", "Prague", "Istanbul",
          "Oslo", "Rome", "Milan", "Austin", "Denver", "Chicago", "Mexico City", "São Paulo", "Munich"]
COURSES = ["Confident Speaker Academy", "Garden Design Basics", "Wealth Habits Bootcamp", "Sourdough Mastery",
           "Yoga for Runners", "Copywriting Sprint", "Freelance Launchpad", "Mindful Money Club",
           "Photography Foundations", "Keto Kitchen Reset", "Piano in 30 Days", "Brand Story Lab",
           "Grant Writing Intensive", "Strength Over Forty", "Calm Parenting Circle", "Inbox Freedom",
           "Podcast Growth Engine", "Sales Call Mastery", "Watercolour Weekends", "Agency Scale Kit",
           "Spanish for Travellers", "Notion Second Brain", "Bookkeeping Made Simple", "Vegan Baking 101"]
PRICES = ["$497", "$1,997", "€297", "£49/month", "3 x $199", "R$ 297,00", "MX$1,499", "CHF 390", "$12.99",
          "€ 1.200", "499 zł", "2.500 kr", "$2,000", "AU$89"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
BIRTH_CUES = ["born", "DOB", "date of birth", "birthday", "b-day", "Geburtsdatum", "geboren am",
              "né le", "née le", "fecha de nacimiento", "data de nascimento", "data di nascita",
              "geboortedatum", "data urodzenia", "doğum tarihi", "födelsedatum", "fødselsdato",
              "syntymäaika", "datum narození", "birth date"]


def date_str(r: random.Random, y: int, m: int, d: int) -> str:
    fmt = r.randrange(9)
    if fmt == 0:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if fmt == 1:
        return f"{m}/{d}/{y % 100:02d}" if r.random() < 0.4 else f"{m}/{d}/{y}"
    if fmt == 2:
        return f"{d:02d}.{m:02d}.{y}"
    if fmt == 3:
        return f"{d}/{m}/{y}"
    if fmt == 4:
        return f"{d} {MONTHS[m - 1]} {y}"
    if fmt == 5:
        return f"{MONTHS[m - 1]} {d}, {y}"
    if fmt == 6:
        return f"{d}th of {MONTHS[m - 1]} {y}"
    if fmt == 7:
        return f"{d:02d}-{m:02d}-{y}"
    return f"{MONTHS[m - 1][:3]} {d} {y}"


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.fakers = {}

    def fk(self, loc: str) -> Faker:
        if loc not in self.fakers:
            f = Faker(loc)
            f.seed_instance(self.r.randrange(1 << 30))
            self.fakers[loc] = f
        return self.fakers[loc]

    def loc(self) -> str:
        return self.r.choice(LOCALES)

    def name(self, loc: str) -> str:
        f = self.fk(loc)
        first, last = f.first_name(), f.last_name()
        shape = self.r.randrange(12)
        if shape == 0:
            return f"{last}, {first}"
        if shape == 1:
            return f"{first} {f.first_name()[0]}. {last}"
        if shape == 2:
            return f"{first} {last}-{f.last_name()}"
        if shape == 3:
            return f"{first} {last.upper()}"
        if shape == 4:
            return f"{first.lower()} {last.lower()}"
        if shape == 5:
            return f"{first} {self.r.choice(['van der', 'de la', 'von', 'de', 'van', 'di', 'da', 'Mc', 'O'])}{'' if self.r.random() < 0.2 else ' '}{last}"
        if shape == 6:
            return f"{first} {f.first_name()} {last}"
        return f"{first} {last}"

    def address(self, loc: str) -> str:
        a = self.fk(loc).address()
        if self.r.random() < 0.6:
            a = a.replace("\n", ", ")
        return a

    def dob(self) -> str:
        return date_str(self.r, self.r.randrange(1940, 2006), self.r.randrange(1, 13), self.r.randrange(1, 29))

    def event_date(self) -> str:
        return date_str(self.r, self.r.randrange(2023, 2027), self.r.randrange(1, 13), self.r.randrange(1, 29))


def pick(r, xs):
    return r.choice(xs)


POSITIVE = [
    "{P} 09:14\nthe {T} thing is broken again, she paid {PR} for {CO}\n\n{P2} 09:20\nI checked the {T} hook",
    "On {E}, {P} <support@example.com> wrote:\n> I bought {CO} ({PR}) and never got the login",
    "[{E}, 10:42] {P}: did you check the zap?\n[{E}, 10:43] Me: yes, {CO} buyers get nothing",
    "customer {P} paid {PR} for {CO}, billing address {A}",
    # (template, slots) -- {P} person, {A} address, {D} dob; {T} tool, {L} plan, {S} step, {G} tag, {C} city, {E} event date
    "Hi, {P} here. Our {T} zap stopped sending leads to {T} after the {S} step.",
    "The contact {P} never got the {L} welcome email, the {G} tag was added though.",
    "{T} created a duplicate for {P} when she booked through {T} on {E}.",
    "Customer: {P}\nAddress: {A}\nPlan: {L}",
    "ship the welcome box to {A} please, the {T} order didn't pull the address",
    "my client {P} (born {D}) signed up for {L} but {T} shows the wrong birthday",
    "DOB: {D}. Name: {P}. The {F} field in {T} stays empty.",
    "Thanks,\n{P}\n{A}",
    "Best regards\n{P}",
    "can you check why {P} was moved to {G} in {T}? she paid for {L}",
    "We imported {P} and {P2} from {T}, both ended up without the {G} tag.",
    "{P} <- this is the lead that {T} dropped after {S}",
    "the billing address {A} fails validation in {T} checkout",
    "she was born on {D} and the age check in {T} rejects her",
    "{BC}: {D}",
    "Name: {P}, {BC} {D}, lives at {A}",
    "Invoice for {P}, {A}. {T} says the address is invalid.",
    "{P} from {C} says the {L} link in the {T} email is broken",
    "I talked to {P} yesterday; the {S} step in {T} is failing since {E}.",
    "Please send the contract to {P}, {A}",
    "Our webinar on {E} had 40 sign-ups but {T} only tagged {P} with {G}",
    "Geburtsdatum {D}, Name {P}, Adresse {A}",
    "Kundin {P} wohnt in {A} und hat den {L} gebucht",
    "mi cliente {P} nació el {D} y {T} no guarda la fecha",
    "cliente {P}, morada {A}, o {T} não sincroniza",
    "ciao, sono {P} e il mio indirizzo è {A}",
    "bonjour, {P} ici, {A}, le formulaire {T} ne marche pas",
    "klant {P} ({A}) kreeg geen bevestiging van {T}",
    "{P}\n{A}\n{T} support ticket about {S}",
    "from: {P}\nsubject: {T} sync broken after {E}",
    "the person is {P}, {BC} {D}",
    "assigned to {P} in {T}, pipeline stage {G}",
    "@{P} can you look at the {T} scenario? {S} errors out",
    "{P} ({C}) and {P2} ({C}) both booked {L} on {E}",
]

NEGATIVE = [
    "she paid {PR} for {CO} and still has no access",
    "the customer paid {PR} for {CO}\n\nwe refunded {PR} for {CO} on {E}",
    "Billing: {T} only copies billing, Shipping: {T} copies nothing",
    "Product: {CO}\nPrice: {PR}\nTool: {T}\nLaunch: {E}",
    "On {E}, support@{T} wrote:\n> We re-sent the invite from {T}.",
    "bought {CO} ({PR}, order R-{N}) and {CO} ({PR})",
    "[{E}, 10:42] Me: the {T} thing again\n[{E}, 10:43] Me: 3 people paid for {CO} and got nothing",
    "affected_tools: {T}, {T}, {T}\naccess_expectation: {CO}\ndeadline: {E}",
    "Our {T} to {T} zap stopped after the {S} step on {E}.",
    "the {L} includes {T}, {T} and {T}; which one should own the {G} tag?",
    "We launch in {C}, {C} and {C} on {E} with the {L}.",
    "{T} → {T} → {T}: the {S} step times out since {E}",
    "Is {T} or {T} better for the {L} funnel? we are based in {C}",
    "The {F} field maps to {F} in {T} but {T} leaves it blank",
    "Step 3 ({S}) in {T} fails with 401 Unauthorized",
    "Tag {G} is applied, then {G} is removed by {T} automation",
    "Black Friday sale ends {E}, the {L} price is $297",
    "We moved from {T} to {T} in {E} and the {S} step broke",
    "Kit and Close both have a Monday integration, which is easier with Make?",
    "Jasper writes the emails, Otto schedules them, Ruby sends them via {T}",
    "The {C} workshop on {E} sold out; {T} did not send reminders",
    "{G} | {G} | {G} are the tags we use in {T}",
    "Plan: {L}\nTool: {T}\nStep: {S}\nSince: {E}",
    "Date of Birth field is required in {T} but the {F} field is optional",
    "the DOB field is empty for every lead from {T}",
    "Webinar: {E}, replay on {E}, cart closes {E}",
    "{T} Academy students get the {L} bonus",
    "Sales Team: please check the {S} step in {T} before the {C} launch",
    "Our office moved to {C}; the {T} account is still set to the old time zone",
    "Customer Success wants {T} to add the {G} tag when {S} runs",
    "Mr. Robot and Dr. Pepper are product names in our {T} store",
    "Rechnung über {L} wird in {T} nicht erstellt, seit {E}",
    "el paso {S} en {T} falla desde el {E}",
    "o plano {L} no {T} não libera o acesso desde {E}",
]


def render(g: Gen, tpl: str):
    r = g.r
    loc = g.loc()
    sens = []
    out = tpl

    def fill(key, value, kind=None):
        nonlocal out
        if kind:
            sens.append({"value": value, "kind": kind})
        out = out.replace("{" + key + "}", value, 1)

    while "{P}" in out:
        fill("P", g.name(loc), "person")
    while "{P2}" in out:
        fill("P2", g.name(g.loc()), "person")
    while "{A}" in out:
        fill("A", g.address(loc), "address")
    while "{D}" in out:
        fill("D", g.dob(), "dob")
    for key, pool in (("T", TOOLS), ("L", PLANS), ("S", STEPS), ("G", TAGS), ("C", CITIES),
                      ("F", FIELDS), ("BC", BIRTH_CUES), ("CO", COURSES), ("PR", PRICES)):
        while "{" + key + "}" in out:
            v = pick(r, pool)
            if r.random() < 0.1:
                v = v.lower()
            fill(key, v)
    while "{N}" in out:
        fill("N", str(r.randrange(100000, 999999)))
    while "{E}" in out:
        fill("E", g.event_date())
    if r.random() < 0.15:
        # Lower-case the template words only: rebuild with values kept.
        low = out.lower()
        for s in sens:
            i = low.find(s["value"].lower())
            if i >= 0:
                low = low[:i] + s["value"] + low[i + len(s["value"]):]
        if all(s["value"] in low for s in sens):
            out = low
    return out, sens


def own_records():
    g = Gen(SEED)
    for i in range(OWN_RECORDS):
        if g.r.random() < 0.45:
            tpl = pick(g.r, NEGATIVE)
        else:
            tpl = pick(g.r, POSITIVE)
        text, sens = render(g, tpl)
        yield {"text": text, "sensitive": sens, "source": f"gen_train own {i}"}


def main(out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with freeze_time(TRAINED_ON):
        records = list(dev_records()) + list(own_records())
    with out.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    print(f"wrote {n} records to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
