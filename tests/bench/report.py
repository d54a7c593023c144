"""The benchmark's table and chart from the clients' JSON lines.

    python report.py RESULTS_JSONL CHART_PNG MACHINE

Prints markdown: absolute figures, each client's ratio to the reference
(the first line whose client starts with "Python reference") and whether it
meets the issue's targets. Writes a bar chart of the ratios.
"""
import datetime
import json
import sys

# Submit speed-up over the reference each client must reach; FRUGAL overhead
# bound; build speed-up through the core (the Rust client calls it directly).
SUBMIT_TARGET = {"Rust": 5, "C": 5, "Node": 3, "Kotlin": 3}
BUILD_TARGET = 50
FRUGAL_MAX_OVERHEAD_PCT = 10
# How much slower a submit may be than the same envelope POSTed plainly
# through the client's own HTTP stack (clients that measure it).
SUBMIT_MAX_OVERHEAD_PCT = 15


def target_for(client, table):
    return next((t for prefix, t in table.items() if client.startswith(prefix)), None)


def times(ratio, digits):
    return "–" if ratio is None else f"{ratio:.{digits}f}"


def verdict(ok):
    return "yes" if ok else "**no**"


def main():
    path, chart, machine = sys.argv[1:4]
    rows = [json.loads(line) for line in open(path) if line.strip()]
    reference = next((r for r in rows if r["client"].startswith("Python reference")), None)
    today = datetime.date.today().isoformat()
    print(f"Measured {today} on {machine}.\n")
    print("| client | submits/s | p50 ms | p99 ms | × ref | FRUGAL step ms | plain ms | overhead | builds/s | µs/build | × ref | targets met |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    ratios = []
    for row in rows:
        s, f, b = row["submit"], row.get("frugal"), row["build"]
        submit_x = s["per_sec"] / reference["submit"]["per_sec"] if reference else None
        build_x = b["per_sec"] / reference["build"]["per_sec"] if reference else None
        ratios.append((row["client"], submit_x, build_x))
        checks = []
        if row is not reference and reference:
            submit_target = target_for(row["client"], SUBMIT_TARGET)
            if submit_target:
                checks.append(f"submit ≥{submit_target}×: {verdict(submit_x >= submit_target)}")
            if row["client"].startswith("Rust"):
                checks.append(f"build ≥{BUILD_TARGET}× (the core): {verdict(build_x >= BUILD_TARGET)}")
            if "plain" in s:
                over = s["plain"]["overhead_pct"]
                checks.append(f"submit <{SUBMIT_MAX_OVERHEAD_PCT}% over plain POST ({over:+.1f}%): "
                              f"{verdict(over < SUBMIT_MAX_OVERHEAD_PCT)}")
            if f:
                checks.append(f"FRUGAL <{FRUGAL_MAX_OVERHEAD_PCT}%: {verdict(f['overhead_pct'] < FRUGAL_MAX_OVERHEAD_PCT)}")
        frugal = (f"{f['step_ms']:.3f} | {f['plain_ms']:.3f} | "
                  f"{f['overhead_pct']:+.1f}%" if f else "n/a | n/a | n/a")
        print(f"| {row['client']} | {s['per_sec']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
              f"{times(submit_x, 1)} | {frugal} | {b['per_sec']:,.0f} | {b['us']:.2f} | {times(build_x, 0)} | "
              f"{'; '.join(checks) or ('reference' if row is reference else '–')} |")
        if "plain" in s:
            p = s["plain"]
            plain_x = p["per_sec"] / reference["submit"]["per_sec"] if reference else None
            print(f"| ↳ the same envelope POSTed plainly, same stack | {p['per_sec']:,.0f} | {p['p50_ms']:.2f} | "
                  f"{p['p99_ms']:.2f} | {times(plain_x, 1)} | | | | | | | the floor for the row above |")
    print(f"\nsubmit: {rows[0]['submit']['n']} sequential submits; frugal: {rows[0]['frugal']['n']:.0f} "
          f"steps and as many plain requests, alternating call by call; build: {rows[0]['build']['n']} builds (twenty rounds, the fastest counts) of "
          "the `everything` vector to JSON.")
    if reference:
        draw(chart, ratios, today, machine)


def draw(chart, ratios, today, machine):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, _, _ in ratios]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    for ax, index, title, targets in (
        (axes[0], 1, "submits/s vs the reference (×)", [3, 5]),
        (axes[1], 2, "builds/s vs the reference (×, log scale)", [BUILD_TARGET]),
    ):
        values = [r[index] for r in ratios]
        bars = ax.barh(names, values, color=["#999999"] + ["#2a7ab9"] * (len(values) - 1))
        ax.bar_label(bars, labels=[f"{v:.1f}×" for v in values], padding=3)
        for target in targets:
            ax.axvline(target, color="#c0392b", linestyle="--", linewidth=1)
        if index == 2:
            ax.set_xscale("log")
        ax.set_title(title)
        ax.margins(x=0.2)
    axes[0].invert_yaxis()
    fig.suptitle(f"EZThrottle SDK clients against ezthrottle 1.1.0 (Python) — {today}, {machine}", fontsize=9)
    fig.tight_layout()
    fig.savefig(chart, dpi=120)


if __name__ == "__main__":
    main()
