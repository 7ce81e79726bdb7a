#!/usr/bin/env python3
"""Writes the example trace of docs/simulation.md: one Monday of a WhatsApp support desk.

example-arrivals.csv  about 3,000 conversations: a daily curve, six types (orders, returns, billing,
                      tech, and Spanish orders and billing), lognormal handle times, 10 % high priority,
                      every customer's patience (a recorded log knows only the patience of those who gave up)
example-types.csv     type -> skills and queue
example-shifts.csv    agents per skill group and half hour, staffed from the expected load the way a
                      workforce-management tool would (90 % of capacity 3), with a roster's roughness

Deterministic: run it again and the files are the same.
    python3 dev/traces/generate-example.py
"""
import csv
import math
import os
import random

random.seed(22)
DAY = "2026-03-02"
CONTACTS_PER_DAY = 3000
CAPACITY = 3
HERE = os.path.dirname(os.path.abspath(__file__))

# Share of the day's contacts arriving in each hour (a desk's day: quiet night, morning ramp, lunch
# dip, afternoon peak, evening tail).
CURVE = [0.15, 0.1, 0.08, 0.08, 0.1, 0.15, 0.3, 0.55, 0.8, 0.95, 1.0, 0.95,
         0.8, 0.85, 0.95, 1.0, 0.95, 0.85, 0.7, 0.55, 0.45, 0.35, 0.25, 0.2]
# type: (share of contacts, mean handle seconds, skills needed, queue)
TYPES = {
    "orders":     (0.36, 540, "orders", "orders"),
    "returns":    (0.14, 720, "returns", "orders"),
    "billing":    (0.20, 660, "billing", "billing"),
    "tech":       (0.20, 960, "tech", "tech"),
    "orders_es":  (0.07, 600, "orders lang:es", "orders"),
    "billing_es": (0.03, 720, "billing lang:es", "billing"),
}
# Skill groups and the types whose load they are staffed for (the bilinguals also fit English
# orders and billing, the hybrids billing; how routing uses them is what the strategies differ on).
GROUPS = {
    "orders returns":                 ["orders", "returns"],
    "billing":                        ["billing"],
    "tech":                           ["tech"],
    "lang:es orders=4 billing=3":     ["orders_es", "billing_es"],
    "billing=3 tech=4":               [],
}
HYBRIDS_BY_DAY = 2  # billing-and-tech agents from 08:00 to 20:00


def lognormal(mean, cv=0.8):
    sigma = math.sqrt(math.log(1 + cv * cv))
    return random.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def clock(seconds):
    seconds = int(seconds)
    return f"{DAY}T{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def arrivals():
    rate_per_hour = [CONTACTS_PER_DAY * f / sum(CURVE) for f in CURVE]
    rows, t = [], 0.0
    peak = max(rate_per_hour) / 3600
    while True:  # Poisson arrivals following the curve, by thinning
        t += random.expovariate(peak)
        if t >= 86400:
            return rows
        if random.random() >= rate_per_hour[int(t // 3600)] / 3600 / peak:
            continue
        kind = random.choices(list(TYPES), weights=[v[0] for v in TYPES.values()])[0]
        priority = random.choices(["normal", "high", "low"], weights=[85, 10, 5])[0]
        handle = lognormal(TYPES[kind][1])
        patience = random.expovariate(1 / 1200)  # mean 20 minutes
        rows.append([clock(t), f"{handle:.0f}", kind, priority, f"{patience:.0f}"])


def shifts():
    rows = []
    for slot in range(48):
        hour = slot // 2
        per_second = CONTACTS_PER_DAY * CURVE[hour] / sum(CURVE) / 3600
        for group, kinds in GROUPS.items():
            if kinds:
                busy = sum(per_second * TYPES[k][0] * TYPES[k][1] for k in kinds)  # conversations at once
                agents = max(1, math.ceil(busy / CAPACITY / 0.9) + random.choice([-1, 0, 0, 1]))
            else:
                agents = HYBRIDS_BY_DAY if 8 <= hour < 20 else 0
            rows.append([clock(slot * 1800), group, agents])
    return rows


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


write("example-arrivals.csv", ["arrival", "handle_seconds", "type", "priority", "patience_seconds"], arrivals())
write("example-types.csv", ["type", "skills", "queue"], [[k, v[2], v[3]] for k, v in TYPES.items()])
write("example-shifts.csv", ["start", "skills", "agents"], shifts())
