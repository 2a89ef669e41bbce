#!/usr/bin/env python3
"""Synthetic batch inputs for bench/batch.sh, the same bytes on every run.

    bench/batch-data.py jsonl MB > records.jsonl     # short records {"id", "text"}, ~200 bytes each
    bench/batch-data.py comments N > comments.csv    # a comments export: id,author,comment

The records mix the questions the gateway gets: clean ones, and ones holding
a key, a card, an email, a phone or a name (values invented, keys and cards
of the documented test kinds)."""

import csv
import random
import sys

OPENERS = [
    "Stripe checkout works but Kajabi never unlocks the course",
    "Typeform submissions stopped reaching HubSpot last week",
    "Calendly bookings never create the deal in Pipedrive",
    "Our Zapier zap to ActiveCampaign fails on every other lead",
    "The webinar signups land in Mailchimp without the tag",
    "Leads from the Facebook form never get the follow-up email",
    "The weekly report in Looker shows half the sales Shopify has",
    "Payment goes through on Thinkific but the student gets no access",
]
TAILS = [
    "what should I check first?",
    "is this a webhook problem or a mapping one?",
    "we lose maybe ten leads a day.",
    "the agency that built it is gone.",
    "I tried reconnecting the app twice.",
]
PRIVATE = [
    lambda r: f"our key is sk_live_{''.join(r.choice('abcdefghijkLMNOPQRSTUVWXYZ0123456789') for _ in range(24))}",
    lambda r: "the test card 4242 4242 4242 4242 went through",
    lambda r: f"write to {r.choice(['anna', 'marc', 'li', 'sofia'])}.{r.randint(1, 999)}@example.com",
    lambda r: f"call me on +44 20 7946 0{r.randint(100, 999)}",
    lambda r: f"my client {r.choice(['Anna Kowalski', 'Marc Dubois', 'Li Wei', 'Sofia Rossi'])} complained",
]


def text(r):
    parts = [r.choice(OPENERS)]
    if r.random() < 0.4:
        parts.append(r.choice(PRIVATE)(r))
    parts.append(r.choice(TAILS))
    return "; ".join(parts)


def main():
    kind, amount = sys.argv[1], int(sys.argv[2])
    r = random.Random(18)
    out = sys.stdout
    if kind == "jsonl":
        import json

        limit, written, n = amount * 1_000_000, 0, 0
        while written < limit:
            n += 1
            line = json.dumps({"id": n, "text": text(r)}) + "\n"
            out.write(line)
            written += len(line.encode())
    elif kind == "comments":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["id", "author", "comment"])
        for n in range(1, amount + 1):
            w.writerow([n, f"viewer{r.randint(1, 50000)}", text(r)])
    else:
        sys.exit(f"unknown kind {kind}: jsonl or comments")


if __name__ == "__main__":
    main()
