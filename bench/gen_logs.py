#!/usr/bin/env python3
"""bench/gen_logs.py: synthetic mail transport logs for the ingestion benchmark.

  bench/gen_logs.py --format postfix|msgtrk --lines N [--seed S]
                    [--start 2026-11-01T00:00:00] [--hosts 2] [-o FILE]

Writes exactly N lines (for msgtrk the five '#' header lines count) to FILE,
or to stdout, and prints to stderr at the end "lines=N bytes=B messages=M
needle_messages=K simulated_seconds=S elapsed=E lines_per_s=R", where M
counts the messages whose first line was written (NDRs included, relay hops
not) and K those from the needle sender. The same arguments give the same
bytes (Python 3 standard library only, nothing depends on hash order).
Memory does not grow with N: a message's lines are made when it arrives and
wait in time buckets only while it is in flight (a deferred one for up to
about an hour of simulated time); lines are written as the clock passes.

The mix is modelled on t/data (see t/data/README and the log-format notes):

postfix   classic syslog lines from mx1..mxH as one central syslog server
          writes them: the first half of the hosts are edges (SMTP in,
          submission, relays out), the others internal relays that take
          part of the local mail from an edge and deliver it by LMTP.
          Per message: smtpd client= (submission/smtpd with sasl_username
          for users) or pickup uid=, cleanup message-id and header INFO
          lines (Subject, some RFC 2047 encoded; To/Cc on submission),
          qmgr from/size/nrcpt, 1-5 envelope recipients (aliases expand
          with orig_to), LMTP deliveries with Dovecot session replies
          (:R2, :R3 ...), relays to another of our hosts ("queued as QID",
          that hop's lines on the other host) and to outside, deferrals
          retried later, bounces with their NDR (bounce ... sender
          non-delivery notification: NQID and the NDR's own lines), qmgr
          removed. Around that, connection chatter (connect, disconnect,
          TLS, lost connection, anvil/scache statistics, load-balancer
          probes) and NOQUEUE rejects. Queue ids are 10-11 upper-case hex
          digits, now and then reused on the same host after removal.
          Timestamps never go backwards; 50-200 messages per simulated
          second (the rate changes every simulated minute).
msgtrk    one Exchange 2016 MSGTRK file (UTF-8 BOM, CRLF, the #Software,
          #Version, #Log-type, #Date and 30-column #Fields headers of
          t/data/msgtrk/MSGTRK20261120-1.LOG), rows for mailbox servers
          MBX01..MBXnn: SUBMIT, RECEIVE, RESOLVE, EXPAND, SEND, DELIVER,
          DEFER, FAIL, DSN (and an occasional AGENTINFO), internal-message-id
          counted per server, ';'-separated recipient lists, CSV quoting.

Senders and recipients come from a pool of about 5000 addresses in a few
domains; bench-needle@example.org sends about 1 message in 1000 (the find
benchmark looks for it). Program names, host names, IP addresses and
domains are those of the samples (example.org is ours).
"""
import argparse
import base64
from bisect import bisect
import calendar
import os
import queue
import random
import sys
import threading
import time
from collections import deque
from datetime import datetime

NEEDLE = "bench-needle@example.org"
NEEDLE_P = 0.001

MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
         "yasmin", "zoe", "adam", "beth", "chris", "diana", "ethan", "fiona", "george", "hannah",
         "isaac", "julia", "kevin", "laura", "mike", "nina", "oscar", "paula", "quinn", "rosa",
         "sam", "tina", "umar", "vera", "will", "xavier", "yusuf", "zara", "anna", "ben", "clara",
         "daniel", "emma", "felix", "gina", "hugo", "ines", "jonas", "karin", "lars", "maria",
         "noah", "otto", "pia", "ralf", "sofia", "tom", "ute", "vince", "wanda", "lee")
LAST = ("smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "robinson",
        "wright", "thompson", "evans", "walker", "white", "roberts", "green", "hall", "wood",
        "jackson", "clarke", "mueller", "schmidt", "schneider", "fischer", "weber", "meyer",
        "wagner", "becker", "schulz", "hoffmann", "martin", "bernard", "dubois", "thomas",
        "robert", "richard", "petit", "durand", "leroy", "moreau", "rossi", "russo", "ferrari",
        "esposito", "bianchi", "romano", "colombo", "ricci", "garcia", "fernandez", "lopez",
        "martinez", "sanchez", "perez", "gomez", "novak", "horvat", "kowalski", "nowak", "berg",
        "lund", "nielsen", "hansen", "jensen", "larsen", "olsen", "virtanen", "korhonen", "ito",
        "tanaka", "kim", "park", "chen", "wang", "singh", "patel", "khan", "ali", "silva")

# Our domains first; the others are outside, each with an MX and outbound hosts.
OUR_DOMAINS = (("example.org", 0.85), ("eu.example.org", 0.15))
EXT_DOMAINS = (
    # domain, share, MX (name, ip), sending hosts
    ("example.net", 0.30, ("mx.example.net", "198.51.100.25"),
     (("mail.example.net", "198.51.100.40"), ("smtp2.example.net", "198.51.100.41"))),
    ("example.com", 0.30, ("mx.example.com", "203.0.113.25"),
     (("out.example.com", "203.0.113.61"), ("mail.example.com", "203.0.113.62"))),
    ("partner.example.net", 0.20, ("mx1.partner.example.net", "198.51.100.60"),
     (("smtp.partner.example.net", "198.51.100.61"),)),
    ("shop.example.com", 0.20, ("mx.shop.example.com", "203.0.113.70"),
     (("bounce.shop.example.com", "203.0.113.71"), ("news.shop.example.com", "203.0.113.72"))),
)
ALIASES = ("team", "sales", "support", "billing", "hr", "it-ops", "all-staff", "finance",
           "legal", "marketing", "office", "events", "security", "facilities", "research",
           "design", "helpdesk", "press", "jobs", "purchasing")

TLS_IN = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
)
WORDS = ("Q3", "Q4", "results", "budget", "meeting", "notes", "agenda", "draft", "contract",
         "invoice", "report", "review", "plan", "update", "proposal", "minutes", "schedule",
         "offsite", "workshop", "travel", "policy", "release", "roadmap", "figures", "slides",
         "training", "onboarding", "feedback", "request", "approval", "order", "delivery",
         "quote", "renewal", "licence", "backup", "outage", "maintenance", "newsletter",
         "survey", "lunch", "Friday", "Monday", "January", "November", "final", "v2", "v3")
UTF8_SUBJECTS = ("Café menu for Friday’s offsite", "Zahlungserinnerung: Rechnung fällig",
                 "Réunion de l’équipe – compte rendu", "Größe der Lieferung prüfen",
                 "Año nuevo, presupuesto nuevo", "Smörgåsbord på fredag", "Ärger mit dem Drucker",
                 "Übersicht der Änderungen", "Crème brûlée order", "Naïve question about façades")


def g2(x):
    """A delay as Postfix logs it: two significant digits, at most two decimals
    (delay_logging_resolution_limit = 2), whole seconds from 10 s up."""
    if x >= 10:
        return "%d" % x
    s = "%.1f" % x if x >= 1 else "%.2f" % x
    s = s.rstrip("0").rstrip(".")
    return s or "0"


def q_encode(s):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif b < 128 and (c.isalnum() or c in "!*+-/"):
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?UTF-8?Q?" + "".join(out) + "?="


def b_encode(s):
    return "=?UTF-8?B?" + base64.b64encode(s.encode("utf-8")).decode("ascii") + "?="


class Pools:
    """Addresses, subjects and sizes, drawn once from the seed."""

    def __init__(self, rng, n_addr=5000):
        names = [(f, l) for f in FIRST for l in LAST]
        rng.shuffle(names)
        self.local, self.external = [], []
        self.display = {}
        ext_total = sum(d[1] for d in EXT_DOMAINS)
        n_local = n_addr * 3 // 5
        for i in range(n_addr):
            f, l = names[i % len(names)]
            form = rng.random()
            lp = (f + "." + l) if form < 0.7 else (f[0] + l) if form < 0.9 else (f + l[0])
            if i >= len(names):
                lp += str(i // len(names))
            if i < n_local:
                r = rng.random()
                dom = OUR_DOMAINS[0][0] if r < OUR_DOMAINS[0][1] else OUR_DOMAINS[1][0]
                self.local.append(lp + "@" + dom)
            else:
                r = rng.random() * ext_total
                for d in EXT_DOMAINS:
                    r -= d[1]
                    if r < 0:
                        break
                self.external.append(lp + "@" + d[0])
            self.display[self.local[-1] if i < n_local else self.external[-1]] = \
                f.capitalize() + " " + l.capitalize()
        # Exchange quotes list members holding ' or ;: a few such names.
        self.external.append("o'brien@example.net")
        self.local.append("d'arcy@example.org")
        self.display["o'brien@example.net"] = "Sean O'Brien"
        self.display["d'arcy@example.org"] = "Anne D'Arcy"
        self.aliases = {}
        for a in ALIASES:
            self.aliases[a + "@example.org"] = tuple(
                self.local[int(rng.random() * n_local)] for _ in range(2 + int(rng.random() * 3)))
        self.alias_list = list(self.aliases)
        self.ext_mx = {d[0]: d[2] for d in EXT_DOMAINS}
        self.ext_senders = {d[0]: d[3] for d in EXT_DOMAINS}
        subj = []
        for i in range(1500):
            k = 2 + int(rng.random() * 5)
            words = [WORDS[int(rng.random() * len(WORDS))] for _ in range(k)]
            s = " ".join(words).capitalize()
            if rng.random() < 0.2:
                s = s.replace(" ", ", ", 1)
            if rng.random() < 0.1:
                s += ' "%s"' % WORDS[int(rng.random() * len(WORDS))]
            r = rng.random()
            if r < 0.10:
                s = "Re: " + s
            elif r < 0.15:
                s = "Fwd: " + s
            subj.append((s, s))
        for i in range(300):
            u = UTF8_SUBJECTS[i % len(UTF8_SUBJECTS)]
            if i % 3:
                u += " " + WORDS[int(rng.random() * len(WORDS))]
            r = rng.random()
            if r < 0.45:
                enc = q_encode(u)
            elif r < 0.85:
                enc = b_encode(u)
            else:
                # a folded header: two encoded words, the break logged as '?'
                cut = len(u) // 2
                enc = b_encode(u[:cut]) + "? " + b_encode(u[cut:])
            subj.append((enc, u))
        rng.shuffle(subj)
        self.subjects = subj
        self.sizes = [max(600, min(40000000, int(rng.lognormvariate(9.2, 1.3))))
                      for _ in range(4096)]


def cumulative(weights):
    t = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        acc += w / t
        out.append(acc)
    out[-1] = 2.0       # for bisect: never past the end
    return out


RCPT_CUM = cumulative((55, 20, 12, 8, 5))     # 1..5 envelope recipients


class Writer:
    """Collects text parts; flush() hands them, encoded, to a thread that
    writes them (write() lets go of the GIL, so writing overlaps generating),
    at most a few chunks behind."""

    def __init__(self, stream, limit):
        self.f = stream
        self.limit = limit
        self.lines = 0
        self.bytes = 0
        self.parts = []
        self.error = None
        self.q = queue.Queue(maxsize=8)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            data = self.q.get()
            if data is None:
                return
            if self.error is None:
                try:
                    self.f.write(data)
                except BaseException as e:     # reported by close()
                    self.error = e

    def flush(self):
        if self.error is not None:
            raise self.error
        if self.parts:
            data = "".join(self.parts).encode("utf-8")
            self.q.put(data)
            self.bytes += len(data)
            self.parts = []

    def close(self):
        """Write what is left and wait for it; raises what the writes raised."""
        self.flush()
        self.q.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        self.f.flush()


def parse_start(s):
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return calendar.timegm(datetime.strptime(s.rstrip("Z"), fmt).timetuple())
        except ValueError:
            pass
    raise SystemExit("gen_logs.py: --start: expected YYYY-MM-DDTHH:MM:SS, got %r" % s)


# ---------------------------------------------------------------- Postfix

def gen_postfix(args, w):
    rng = random.Random(args.seed)
    pools = Pools(random.Random(args.seed * 7919 + 1))
    rnd = rng.random
    rbits = rng.getrandbits
    expo = rng.expovariate
    # Lines wait in buckets of 100 ms of simulated time until the clock has
    # passed them. Syslog prints whole seconds: inside a bucket lines are in
    # push order, which keeps each message's own order.
    buckets = {}
    marks = {}          # bucket -> [(index of a message's first line, 1 | 2 for the needle)]

    local = pools.local
    n_local = len(local) - 1            # the quoted-name address is for msgtrk
    external = pools.external
    n_ext = len(external) - 1
    aliases = pools.aliases
    alias_list = pools.alias_list
    subjects = pools.subjects
    n_subj = len(subjects)
    sizes = pools.sizes
    ext_mx = pools.ext_mx
    ext_senders = pools.ext_senders
    display = pools.display
    base = parse_start(args.start)

    def push(t, bodies, flag=0):
        k = t // 100
        b = buckets.get(k)
        if b is None:
            buckets[k] = b = []
        if flag:
            m = marks.get(k)
            if m is None:
                marks[k] = [(len(b), flag)]
            else:
                m.append((len(b), flag))
        b += bodies

    # Hosts ------------------------------------------------------------
    class Host:
        pass

    H = args.hosts
    hosts = []
    for i in range(H):
        h = Host()
        h.name = "mx%d" % (i + 1)
        h.fqdn = h.name + ".example.org"
        h.ip = "192.0.2.%d" % (10 + 2 * i) if i < 5 else "192.0.2.%d" % (40 + i)
        h.client = "%s[%s]" % (h.fqdn, h.ip)
        pid0 = 1000 + 900 * i + (rbits(20) % 300)

        def progs(name, n, p0, h=h):
            return ["%s postfix/%s[%d]: " % (h.name, name, p0 + 7 * k) for k in range(n)]
        h.qmgr = "%s postfix/qmgr[%d]: " % (h.name, pid0 + 87)
        h.pickup = "%s postfix/pickup[%d]: " % (h.name, pid0 + 998)
        # smtpd processes: one session at a time, reused while idle
        h.nextpid = pid0 + 1100
        h.smtpd = (deque(), "%s postfix/smtpd[%%d]: " % h.name)
        h.sub_smtpd = (deque(), "%s postfix/submission/smtpd[%%d]: " % h.name)
        h.cleanup = progs("cleanup", 8, pid0 + 1104)
        h.sub_cleanup = progs("submission/cleanup", 4, pid0 + 1103)
        h.lmtp = progs("lmtp", 8, pid0 + 1105)
        h.smtp = progs("smtp", 16, pid0 + 1131)
        h.bounce = progs("bounce", 3, pid0 + 1164)
        h.anvil = "%s postfix/anvil[%d]: " % (h.name, pid0 + 1003)
        h.scache = "%s postfix/scache[%d]: " % (h.name, pid0 + 1099)
        h.cron = "%s CRON[%%d]: " % h.name
        h.removed = deque(maxlen=4096)
        # the Dovecot session ids of a delivery host share a tail (pid, host)
        h.dv_tail = "AA" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(3))).decode()[:4] + "2A"
        hosts.append(h)
    n_edge = max(1, H // 2)
    edges = hosts[:n_edge]
    internal = hosts[n_edge:]
    n_int = len(internal)

    IMAP = "relay=imap.example.org[192.0.2.20]:24"
    RELAY_P = 0.3         # share of an edge's local mail handed to an internal host
    QID_REUSE_P = 0.002

    def proc(h, pool, t, busy):
        """An smtpd process of host h free at t, busy for the next busy ms: its log prefix."""
        dq = pool[0]
        if dq and dq[0][0] <= t:
            pre = dq.popleft()[1]
        else:
            h.nextpid += 1 + (rbits(20) % 6)
            pre = pool[1] % h.nextpid
        dq.append((t + busy, pre))
        return pre

    def new_qid(h, t):
        if rnd() < QID_REUSE_P and h.removed and h.removed[0][0] < t:
            return h.removed.popleft()[1]
        b = rbits(45)
        return "%011X" % (b & 0xFFFFFFFFFFF) if b >> 44 else "%010X" % (b & 0xFFFFFFFFFF)

    B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    B64_2 = [a + b for a in B64 for b in B64]           # 4096 two-character pieces

    def dv_session(h):
        """Dovecot's session id: 22 base64 characters, the last 8 fixed per host."""
        r = rbits(72)
        return (B64_2[r & 4095] + B64_2[(r >> 12) & 4095] + B64_2[(r >> 24) & 4095] + B64_2[(r >> 36) & 4095]
                + "Q2" + B64_2[(r >> 48) & 4095] + B64_2[r >> 60] + h.dv_tail)

    # delay=, delays= for quick deliveries
    quick = []
    for _ in range(512):
        a = 0.02 + rnd() * 0.3
        b = 0.01
        c = rnd() * 0.06
        d = 0.01 + rnd() * 0.35
        quick.append("delay=%s, delays=%s/%s/%s/%s" % (g2(a + b + c + d), g2(a), g2(b), g2(c), g2(d)))

    def delays_for(elapsed):
        c = rnd() * 0.5
        d = rnd() * 0.4
        a = max(0.0, elapsed - c - d - 0.01)
        return "delay=%s, delays=%s/0.01/%s/%s" % (g2(elapsed), g2(a), g2(c), g2(d))

    def stamp14(t):
        tm = time.gmtime(base + t // 1000)
        return "%04d%02d%02d%02d%02d%02d" % tm[:6]

    def msgid_for(kind, t, qid, h, sender_dom):
        r = rbits(128)
        if kind == 0:       # MUA-style uuid (version 4)
            return "<%08x-%04x-4%03x-%04x-%012x@%s>" % (r >> 96, (r >> 80) & 0xFFFF, (r >> 68) & 0xFFF,
                                                        0x8000 | ((r >> 48) & 0x3FFF), r & 0xFFFFFFFFFFFF,
                                                        sender_dom)
        if kind == 2:       # MTA-style
            return "<%s.%d.%x@%s>" % (stamp14(t), r & 0xFFFF, r >> 96, sender_dom)
        return "<%x.fsf@%s>" % (r >> 80, sender_dom)     # Gnus

    # ---------------------------------------------------------------
    # Delivery of one queue file on host h, starting at time t.
    # rcpts: list of (addr, orig_to or None, kind) with kind 0 = local
    # mailbox, 1 = local address that does not exist, 2 = outside.
    # Returns the time of "removed".
    def deliver(h, qid, t, sender, rcpts, size, nrcpt, arrival, via_relay, is_ndr, mid):
        if via_relay is None:
            for r in rcpts:
                if r[2]:
                    break
            else:
                # the common case: local mailboxes only, one LMTP transaction, removed
                lm = h.lmtp[rbits(3)] + qid
                sess = dv_session(h)
                q = quick[rbits(9)]
                bodies = []
                n = 0
                for addr, orig, kind in rcpts:
                    n += 1
                    if orig:
                        bodies.append("%s: to=<%s>, orig_to=<%s>, %s, %s, dsn=2.0.0, status=sent "
                                      "(250 2.0.0 <%s> %s Saved)"
                                      % (lm, addr, orig, IMAP, q, addr, sess if n == 1 else "%s:R%d" % (sess, n)))
                    else:
                        bodies.append("%s: to=<%s>, %s, %s, dsn=2.0.0, status=sent (250 2.0.0 <%s> %s Saved)"
                                      % (lm, addr, IMAP, q, addr, sess if n == 1 else "%s:R%d" % (sess, n)))
                bodies.append(h.qmgr + qid + ": removed")
                tl = t + 40 + (rbits(20) % 400)
                push(tl, bodies)
                h.removed.append((tl, qid))
                return tl
        loc = [r for r in rcpts if r[2] != 2]
        ext = [r for r in rcpts if r[2] == 2]
        t_end = t
        bounced = []
        pending = []          # (domain, [rcpts]) deferred in this run
        if loc:
            if via_relay is not None:
                t_end = max(t_end, relay_hop(h, via_relay, qid, t, sender, loc, size, arrival, mid))
            else:
                lm = h.lmtp[rbits(3)]
                sess = dv_session(h)
                q = quick[rbits(9)]
                bodies = []
                n = 0
                for addr, orig, kind in loc:
                    if kind == 1:
                        bodies.append(
                            "%s%s: to=<%s>, %s, %s, dsn=5.1.1, status=bounced (host imap.example.org"
                            "[192.0.2.20] said: 550 5.1.1 <%s> User doesn't exist: %s (in reply to RCPT TO command))"
                            % (lm, qid, addr, IMAP, q, addr, addr))
                        bounced.append(addr)
                        continue
                    n += 1
                    s = sess if n == 1 else "%s:R%d" % (sess, n)
                    if orig:
                        bodies.append("%s%s: to=<%s>, orig_to=<%s>, %s, %s, dsn=2.0.0, status=sent "
                                      "(250 2.0.0 <%s> %s Saved)" % (lm, qid, addr, orig, IMAP, q, addr, s))
                    else:
                        bodies.append("%s%s: to=<%s>, %s, %s, dsn=2.0.0, status=sent "
                                      "(250 2.0.0 <%s> %s Saved)" % (lm, qid, addr, IMAP, q, addr, s))
                tl = t + 40 + (rbits(20) % 400)
                push(tl, bodies)
                t_end = max(t_end, tl)
        if ext:
            bydom = {}
            for r in ext:
                d = r[0][r[0].index("@") + 1:]
                if d in bydom:
                    bydom[d].append(r)
                else:
                    bydom[d] = [r]
            te = t
            for d, rs in bydom.items():
                te, defer = smtp_out(h, qid, te, d, rs, arrival, bounced, first=True)
                if defer:
                    pending.append((d, rs))
            t_end = max(t_end, te)
        if bounced and not is_ndr:
            t_end = ndr(h, qid, t_end + 1 + (rbits(20) % 30), sender, bounced, size)
        tries = 0
        while pending:
            tries += 1
            tr = t_end + 300000 * tries + (rbits(20) % 300000)
            push(tr, [h.qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (qid, sender, size, nrcpt)])
            te = tr + 20 + (rbits(20) % 500)
            left = []
            for d, rs in pending:
                te, defer = smtp_out(h, qid, te, d, rs, arrival, None, first=False, last=tries >= 3)
                if defer:
                    left.append((d, rs))
            pending = left
            t_end = te
        tr = t_end + (rbits(20) % 20)
        push(tr, [h.qmgr + qid + ": removed"])
        h.removed.append((tr, qid))
        return tr

    REPLIES_OK = ("250 2.0.0 Ok: queued as %s", "250 2.0.0 OK id=%s", "250 2.6.0 <%s> Queued mail for delivery")

    def smtp_out(h, qid, t, dom, rs, arrival, bounced, first, last=False):
        """One SMTP transaction to an outside MX. Returns (end time, deferred?)."""
        mxn, mxip = ext_mx[dom]
        sp = h.smtp[rbits(4)]
        relay = "relay=%s[%s]:25" % (mxn, mxip)
        t1 = t + 100 + (rbits(20) % 900)
        r = rnd()
        if not last and r < (0.06 if first else 0.35):
            # deferred: the whole transaction
            el = (t1 - arrival) / 1000.0
            k = rnd()
            if k < 0.4:
                push(t1, [sp + "connect to %s[%s]:25: Connection refused" % (mxn, mxip)])
                bodies = [sp + "%s: to=<%s>, relay=none, %s, dsn=4.4.1, status=deferred (connect to %s[%s]:25: "
                          "Connection refused)" % (qid, a, delays_for(el), mxn, mxip) for a, o, _ in rs]
            elif k < 0.8:
                bodies = [sp + "Trusted TLS connection established to %s[%s]:25: %s" % (mxn, mxip, TLS_IN[0])]
                bodies += [sp + "%s: to=<%s>, %s, %s, dsn=4.7.1, status=deferred (host %s[%s] said: 451 4.7.1 "
                           "<%s>: Recipient address rejected: Greylisted, try again in 5 minutes (in reply to "
                           "RCPT TO command))" % (qid, a, relay, delays_for(el), mxn, mxip, a) for a, o, _ in rs]
            else:
                bodies = [sp + "Trusted TLS connection established to %s[%s]:25: %s" % (mxn, mxip, TLS_IN[0])]
                bodies += [sp + "%s: to=<%s>, %s, %s, dsn=4.2.2, status=deferred (host %s[%s] said: 452 4.2.2 "
                           "<%s>: Recipient address rejected: Mailbox full (in reply to RCPT TO command))"
                           % (qid, a, relay, delays_for(el), mxn, mxip, a) for a, o, _ in rs]
            push(t1, bodies)
            return t1, True
        t2 = t1 + 200 + (rbits(20) % 1500)
        el = (t2 - arrival) / 1000.0
        dl = quick[rbits(9)] if first and el < 2 else delays_for(el)
        if rnd() < 0.3:
            # a cached connection (scache): no new TLS handshake, conn_use= in the line
            bodies = []
            dl = "conn_use=%d, %s" % (2 + rbits(2), dl)
        else:
            bodies = [sp + "Trusted TLS connection established to %s[%s]:25: %s"
                      % (mxn, mxip, TLS_IN[(rbits(20) % 3)])]
        k = rbits(64)
        rk = (rbits(20) % 3)
        if rk == 0:
            reply = REPLIES_OK[0] % ("%013X" % (k >> 12))
        elif rk == 1:
            # an Exim message id
            e = "".join(B62[(k >> (6 * i)) % 62] for i in range(10))
            reply = REPLIES_OK[1] % ("1t%s-%s-%s" % (e[:4], e[4:10], e[6:8]))
        else:
            reply = REPLIES_OK[2] % ("%016x@%s" % (k, mxn))
        for a, o, _ in rs:
            if bounced is not None and rnd() < 0.03:
                bodies.append(sp + "%s: to=<%s>, %s, %s, dsn=5.1.1, status=bounced (host %s[%s] said: 550 5.1.1 "
                              "<%s>: Recipient address rejected: User unknown in local recipient table (in reply "
                              "to RCPT TO command))" % (qid, a, relay, dl, mxn, mxip, a))
                bounced.append(a)
            elif o:
                bodies.append(sp + "%s: to=<%s>, orig_to=<%s>, %s, %s, dsn=2.0.0, status=sent (%s)"
                              % (qid, a, o, relay, dl, reply))
            else:
                bodies.append(sp + "%s: to=<%s>, %s, %s, dsn=2.0.0, status=sent (%s)" % (qid, a, relay, dl, reply))
        push(t2, bodies)
        return t2, False

    def relay_hop(h, ih, qid, t, sender, loc, size, arrival, mid):
        """Edge h relays the local recipients to internal host ih: both sides, within some 100 ms."""
        sp = h.smtp[rbits(4)]
        t0 = t + 5 + (rbits(20) % 50)
        ip = proc(ih, ih.smtpd, t0, 200)
        nq = new_qid(ih, t0)
        n = len(loc)
        size2 = size + 480 + (rbits(20) % 120)
        hop = [ip + nq + ": client=" + h.client,
               ih.cleanup[rbits(3)] + nq + ": message-id=" + mid,
               ih.qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (nq, sender, size2, n)]
        dl = quick[rbits(9)] if t0 - arrival < 1900 else delays_for((t0 + 60 - arrival) / 1000.0)
        # half the time a cached connection (conn_use=): no connect, TLS or disconnect lines
        if rnd() < 0.5:
            bodies = hop
            dl = "conn_use=%d, %s" % (2 + rbits(3), dl)
        else:
            bodies = [ip + "connect from " + h.client,
                      sp + "Trusted TLS connection established to %s[%s]:25: %s" % (ih.fqdn, ih.ip, TLS_IN[0]),
                      ip + "Anonymous TLS connection established from %s: %s" % (h.client, TLS_IN[0])] + hop
        relay = "relay=%s[%s]:25" % (ih.fqdn, ih.ip)
        for a, o, _ in loc:
            if o:
                bodies.append(sp + "%s: to=<%s>, orig_to=<%s>, %s, %s, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued "
                              "as %s)" % (qid, a, o, relay, dl, nq))
            else:
                bodies.append(sp + "%s: to=<%s>, %s, %s, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)"
                              % (qid, a, relay, dl, nq))
        if bodies is not hop:
            bodies.append(ip + "disconnect from %s ehlo=2 starttls=1 mail=1 rcpt=%d data=1 quit=1 commands=%d"
                          % (h.client, n, 6 + n))
        push(t0, bodies)
        t2 = t0 + 10 + (rbits(20) % 60)
        deliver(ih, nq, t2 + 10 + (rbits(20) % 200), sender, [(a, None, 0) for a, o, _ in loc],
                size2, n, t0, None, False, mid)
        return t2

    def ndr(h, qid, t, sender, bounced, size):
        """The non-delivery notification for bounced recipients of qid."""
        nq = new_qid(h, t)
        nsize = 2400 + min(size, 2000) + (rbits(20) % 1500)
        nmid = "<%s.%s@%s>" % (stamp14(t), nq, h.fqdn)
        push(t, [h.cleanup[rbits(3)] + "%s: message-id=%s" % (nq, nmid),
                 h.qmgr + "%s: from=<>, size=%d, nrcpt=1 (queue active)" % (nq, nsize),
                 h.bounce[(rbits(20) % 3)] + "%s: sender non-delivery notification: %s" % (qid, nq)], 1)
        d = sender[sender.index("@") + 1:] if "@" in sender else "example.org"
        kind = 2 if d in ext_mx else 0
        deliver(h, nq, t + 2 + (rbits(20) % 40), "", [(sender, None, kind)], nsize, 1, t, None, True, nmid)
        return t + 1

    def expand(addrs):
        out = []
        for a in addrs:
            m = aliases.get(a)
            if m:
                for x in m:
                    out.append((x, a, 0))
            else:
                out.append((a, None, 0 if "example.org" in a else 2))
        return out

    # Envelopes, drawn once: (envelope recipients, recipients after alias
    # expansion as (address, orig_to, kind), the last envelope recipient).
    in_env = []         # SMTP from outside: our addresses and aliases
    sub_env = []        # submission: also outside, with the To and Cc header values
    for _ in range(8192):
        nr = bisect(RCPT_CUM, rnd()) + 1
        env = [alias_list[(rbits(20) % len(alias_list))] if rnd() < 0.12 else local[(rbits(20) % n_local)]
               for _ in range(nr)]
        in_env.append((nr, expand(env), env[-1]))
        env = []
        for _ in range(nr):
            r = rnd()
            if r < 0.5:
                env.append(local[(rbits(20) % n_local)])
            elif r < 0.55:
                env.append(alias_list[(rbits(20) % len(alias_list))])
            else:
                env.append(external[(rbits(20) % n_ext)])
        nto = 1 + (nr > 2)
        to = ", ".join("%s <%s>" % (display.get(a, a.split("@")[0].capitalize()), a) if rnd() < 0.8 else a
                       for a in env[:nto])
        cc = ", ".join(env[nto:-1]) if nr > nto + 1 else None
        sub_env.append((nr, expand(env), env[-1], to, cc))

    # ---------------------------------------------------------------
    # Sessions.
    SESSION_W = (65, 22, 13)
    SESSION_CUM = cumulative(SESSION_W)          # messages per inbound SMTP session

    def inbound(t):
        h = edges[(rbits(20) % n_edge)]
        sender = external[(rbits(20) % n_ext)]
        d = sender[sender.index("@") + 1:]
        shosts = ext_senders[d]
        cname, cip = shosts[(rbits(20) % len(shosts))]
        client = "%s[%s]" % (cname, cip)
        nmsg = bisect(SESSION_CUM, rnd()) + 1
        sp = proc(h, h.smtpd, t, 2100 * nmsg)
        tls = rnd() < 0.75
        first = [sp + "connect from " + client]
        if tls:
            first.append(sp + "Anonymous TLS connection established from %s: %s" % (client, TLS_IN[(rbits(20) % 3)]))
        push(t, first)
        t1 = t + 200 + (rbits(20) % 1200)
        nrs = 0
        for j in range(nmsg):
            if j:
                # the same client sends more: often another sender of the same domain
                if rnd() < 0.6:
                    sender = external[(rbits(20) % n_ext)]
                    if not sender.endswith(d):
                        sender = sender[:sender.index("@") + 1] + d
                t1 = t2 + 20 + (rbits(20) % 300)
            nr, rcpts, last = in_env[rbits(13)]
            nrs += nr
            qid = new_qid(h, t1)
            push(t1, [sp + qid + ": client=" + client])
            t2 = t1 + 50 + (rbits(20) % 500)
            mid = msgid_for(2 + (rnd() < 0.3) if rnd() < 0.6 else 0, t1, qid, h, d)
            cl = h.cleanup[rbits(3)]
            size = sizes[rbits(12)]
            tail = [h.qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (qid, sender, size, len(rcpts))]
            if j == nmsg - 1:
                # QUIT right after the last message
                tail.append(sp + "disconnect from %s ehlo=%d%s mail=%d rcpt=%d data=%d quit=1 commands=%d"
                            % (client, 2 if tls else 1, " starttls=1" if tls else "", nmsg, nrs, nmsg,
                               nrs + 2 * nmsg + (4 if tls else 2)))
            if rnd() < 0.92:
                enc = subjects[(rbits(20) % n_subj)][0]
                sl = "%s%s: info: header Subject: %s from %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (
                    cl, qid, enc, client, sender, last, cname)
                if rnd() < 0.3:
                    push(t2, [sl, cl + qid + ": message-id=" + mid] + tail, 1)
                else:
                    push(t2, [cl + qid + ": message-id=" + mid, sl] + tail, 1)
            else:
                push(t2, [cl + qid + ": message-id=" + mid] + tail, 1)
            via = internal[(rbits(20) % n_int)] if n_int and rnd() < RELAY_P else None
            deliver(h, qid, t2 + 20 + (rbits(20) % 300), sender, rcpts, size, len(rcpts), t1, via, False, mid)

    ws_clients = []
    for i in range(200):
        ws_clients.append(("ws-%s%s.example.org" % (FIRST[i % len(FIRST)], "" if i < len(FIRST) else i),
                           "192.0.2.%d" % (100 + i % 150) if i < 150 else "10.1.%d.%d" % (i // 200, i % 250)))

    def submission(t, needle):
        h = edges[(rbits(20) % n_edge)]
        sender = NEEDLE if needle else local[(rbits(20) % n_local)]
        cname, cip = ws_clients[(rbits(20) % 200)]
        if rnd() < 0.15:
            cname = "unknown"
            cip = "203.0.113.%d" % (2 + (rbits(20) % 250))
        client = "%s[%s]" % (cname, cip)
        helo = "[%s]" % cip
        sp = proc(h, h.sub_smtpd, t, 2500)
        nr, rcpts, last, to, cc = sub_env[rbits(13)]
        push(t, [sp + "connect from " + client,
                 sp + "Anonymous TLS connection established from %s: %s" % (client, TLS_IN[0])])
        t1 = t + 300 + (rbits(20) % 1500)
        qid = new_qid(h, t1)
        push(t1, [sp + "%s: client=%s, sasl_method=PLAIN, sasl_username=%s" % (qid, client, sender)])
        t2 = t1 + 50 + (rbits(20) % 400)
        mid = msgid_for(0, t1, qid, h, "example.org")
        cl = h.sub_cleanup[rbits(2)]
        size = sizes[rbits(12)]
        tailctx = " from %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (client, sender, last, helo)
        cq = cl + qid
        bodies = [cq + ": message-id=" + mid, cq + ": info: header To: " + to + tailctx]
        if cc:
            bodies.append(cq + ": info: header Cc: " + cc + tailctx)
        bodies.append(cq + ": info: header Subject: " + subjects[(rbits(20) % n_subj)][0] + tailctx)
        bodies.append(h.qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (qid, sender, size, len(rcpts)))
        bodies.append(sp + "disconnect from %s ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d"
                      % (client, nr, nr + 7))
        push(t2, bodies, 2 if needle else 1)
        via = internal[(rbits(20) % n_int)] if n_int and rnd() < RELAY_P else None
        deliver(h, qid, t2 + 20 + (rbits(20) % 300), sender, rcpts, size, len(rcpts), t1, via, False, mid)

    CRON_USERS = (("ops", 1000), ("root", 0), ("www-data", 33), ("backup", 34))
    CRON_JOBS = ("/usr/local/sbin/quota-report", "/usr/local/bin/check-certs", "run-parts /etc/cron.daily",
                 "/usr/local/sbin/backup-status")

    def pickup(t):
        h = hosts[(rbits(20) % H)]
        u, uid = CRON_USERS[rbits(2)]
        sender = u + "@example.org"
        job = CRON_JOBS[rbits(2)]
        r1 = "reports@example.org" if rnd() < 0.15 else local[(rbits(20) % n_local)]
        if rnd() < 0.25:    # a cron job; the rest are applications calling sendmail
            push(t, [h.cron % (3000 + (rbits(20) % 5000)) + "(%s) CMD (%s | mail -s 'Report from %s' %s)"
                     % (u, job, h.name, r1)])
        t1 = t + (rbits(20) % 200)
        qid = new_qid(h, t1)
        cl = h.cleanup[rbits(3)]
        size = 800 + (rbits(20) % 4000)
        mid = "<%s.%s@%s>" % (stamp14(t1), qid, h.fqdn)
        push(t1, [h.pickup + "%s: uid=%d from=<%s>" % (qid, uid, u),
                  cl + "%s: message-id=%s" % (qid, mid),
                  cl + "%s: info: header Subject: Report from %s from local; from=<%s> to=<%s>"
                  % (qid, h.name, sender, r1),
                  h.qmgr + "%s: from=<%s>, size=%d, nrcpt=1 (queue active)" % (qid, sender, size)], 1)
        kind = 1 if r1.startswith("reports@") else 0
        deliver(h, qid, t1 + 10 + (rbits(20) % 100), sender, [(r1, None, kind)], size, 1, t1, None, False, mid)

    REJECTS = (
        "550 5.1.1 <%(r)s>: Recipient address rejected: User unknown in virtual mailbox table",
        "554 5.7.1 <%(r)s>: Relay access denied",
        "450 4.7.1 <%(r)s>: Recipient address rejected: Greylisted, see https://greylist.example.org/",
        "554 5.7.1 Service unavailable; Client host [%(ip)s] blocked using zen.dnsbl.example.net",
    )
    SPAMMERS = (("bulk.example.com", "203.0.113.90"), ("unknown", "198.51.100.%d"),
                ("mailer.shop.example.com", "203.0.113.91"), ("unknown", "203.0.113.%d"))

    def reject(t):
        h = edges[(rbits(20) % n_edge)]
        cname, cip = SPAMMERS[rbits(2)]
        if "%d" in cip:
            cip = cip % (2 + (rbits(20) % 250))
        client = "%s[%s]" % (cname, cip)
        helo = cname if cname != "unknown" else "[%s]" % cip
        sp = proc(h, h.smtpd, t, 2000)
        tls = rnd() < 0.5
        first = [sp + "connect from " + client]
        if tls:
            first.append(sp + "Anonymous TLS connection established from %s: %s" % (client, TLS_IN[2]))
        push(t, first)
        sender = external[(rbits(20) % n_ext)] if rnd() < 0.7 else "news@bulk.example.com"
        k = rbits(2)
        if k == 1:      # relay attempt to an outside address
            r = external[(rbits(20) % n_ext)]
        elif k == 0:    # unknown user of ours
            r = "nosuch%d@example.org" % (rbits(20) % 1000)
        else:
            r = local[(rbits(20) % n_local)]
        text = REJECTS[k] % {"r": r, "ip": cip}
        t1 = t + 300 + (rbits(20) % 1500)
        push(t1, [sp + "NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>"
                  % (client, text, sender, r, helo),
                  sp + "disconnect from %s ehlo=%d%s mail=1 rcpt=0/1 quit=1 commands=%d/%d"
                  % (client, 1 + tls, " starttls=1" if tls else "", 3 + tls * 2, 4 + tls * 2)])

    def probe(t):
        h = hosts[(rbits(20) % H)]
        sp = proc(h, h.smtpd, t, 10)
        push(t, [sp + "connect from lb1.example.org[192.0.2.5]",
                 sp + "lost connection after CONNECT from lb1.example.org[192.0.2.5]",
                 sp + "disconnect from lb1.example.org[192.0.2.5] commands=0/0"])

    def authfail(t):
        h = edges[(rbits(20) % n_edge)]
        ip = "203.0.113.%d" % (2 + (rbits(20) % 250))
        client = "unknown[%s]" % ip
        sp = proc(h, h.sub_smtpd, t, 3500)
        push(t, [sp + "warning: hostname dyn-%s.example.com does not resolve to address %s: Name or service "
                 "not known" % (ip.replace(".", "-"), ip),
                 sp + "connect from " + client,
                 sp + "Anonymous TLS connection established from %s: %s" % (client, TLS_IN[0])])
        t1 = t + 1000 + (rbits(20) % 2000)
        push(t1, [sp + "warning: %s: SASL LOGIN authentication failed: UGFzc3dvcmQ6" % client,
                  sp + "lost connection after AUTH from " + client,
                  sp + "disconnect from %s ehlo=2 starttls=1 auth=0/1 commands=3/4" % client])

    def statistics(t, h):
        hh = stamp_syslog(t - (rbits(20) % 60000))
        push(t, [h.anvil + "statistics: max connection rate %d/60s for (smtp:198.51.100.40) at %s"
                 % (1 + (rbits(20) % 9), hh),
                 h.anvil + "statistics: max connection count %d for (smtp:198.51.100.40) at %s"
                 % (1 + rbits(2), hh),
                 h.anvil + "statistics: max cache size %d at %s" % (2 + (rbits(20) % 30), hh)])
        push(t + 1000 + (rbits(20) % 5000),
             [h.scache + "statistics: start interval " + hh,
              h.scache + "statistics: domain lookup hits=%d miss=%d success=%d%%" % (3, 5, 37),
              h.scache + "statistics: address lookup hits=%d miss=%d success=%d%%" % (2, 6, 25),
              h.scache + "statistics: max simultaneous domains=1 addresses=%d connection=%d" % (2, 2)])

    def stamp_syslog(t):
        tm = time.gmtime(base + t // 1000)
        return "%s %2d %02d:%02d:%02d" % (MON[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)

    # Session mix (fractions of arrivals; messages are about 85% of them).
    KIND_W = (52, 36, 2, 6, 0.7, 0.3)
    KIND_CUM = cumulative(KIND_W)
    # messages per session on average, and the needle's share of submissions
    per_session = (KIND_W[0] * sum((i + 1) * x for i, x in enumerate(SESSION_W)) / sum(SESSION_W)
                   + KIND_W[1] + KIND_W[2]) / sum(KIND_W)
    needle_p = NEEDLE_P * per_session * sum(KIND_W) / KIND_W[1]
    # ---------------------------------------------------------------
    limit = w.limit
    parts = w.parts
    written = 0
    msgs = needles = 0
    t = 0
    next_rate_change = 0
    next_stats = 600000
    rate = 100.0
    last_sec = -1
    ts = ""
    nk = 0              # the first bucket not written yet
    while True:
        if t >= next_rate_change:
            rate = (50 + rnd() * 150) / per_session / 1000.0    # sessions per ms
            next_rate_change += 60000
        if t >= next_stats:
            for h in hosts:
                statistics(t, h)
            next_stats += 600000
        # write the buckets before t's: later sessions only add lines at >= t
        kt = t // 100
        while nk < kt:
            b = buckets.pop(nk, None)
            if b is not None:
                sec = nk // 10
                if sec != last_sec:
                    last_sec = sec
                    tm = time.gmtime(base + sec)
                    ts = "%s %2d %02d:%02d:%02d " % (MON[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min,
                                                     tm.tm_sec)
                m = marks.pop(nk, None)
                n = len(b)
                if written + n >= limit:
                    n = limit - written
                    b = b[:n]
                    if m:
                        m = [x for x in m if x[0] < n]
                if m:
                    msgs += len(m)
                    for x in m:
                        needles += x[1] == 2
                written += n
                parts.append(ts + ("\n" + ts).join(b) + "\n")
                if len(parts) >= 32:     # about 0.7 MB
                    w.flush()
                    parts = w.parts
                if written >= limit:
                    break
            nk += 1
        if written >= limit:
            break
        k = bisect(KIND_CUM, rnd())
        if k == 0:
            inbound(t)
        elif k == 1:
            submission(t, rnd() < needle_p)
        elif k == 2:
            pickup(t)
        elif k == 3:
            reject(t)
        elif k == 4:
            probe(t)
        else:
            authfail(t)
        t += 1 + int(expo(rate))
    w.lines = written
    w.flush()
    return {"messages": msgs, "needle": needles}, t


# ---------------------------------------------------------------- MSGTRK

MSGTRK_FIELDS = ("date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,"
                 "source,event-id,internal-message-id,message-id,network-message-id,recipient-address,"
                 "recipient-status,total-bytes,recipient-count,related-recipient-address,reference,"
                 "message-subject,sender-address,return-path,message-info,directionality,tenant-id,"
                 "original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,"
                 "schema-version")
VERSION = "15.01.2507.006"


def csvq(s):
    if "," in s or '"' in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def member(a):
    """A member of a ';' list: wrapped in '...' (inner ' doubled) when it holds ' or ;."""
    if "'" in a or ";" in a:
        return "'" + a.replace("'", "''") + "'"
    return a


def lst(addrs):
    s = ";".join(addrs)
    if "'" in s:
        s = ";".join(member(a) for a in addrs)
    return s


def gen_msgtrk(args, w):
    rng = random.Random(args.seed)
    pools = Pools(random.Random(args.seed * 7919 + 1))
    rnd = rng.random
    rbits = rng.getrandbits
    expo = rng.expovariate
    # Rows (with their date-time) wait in buckets of 10 ms of simulated time;
    # a bucket is sorted when written, so rows come out in date-time order.
    buckets = {}
    marks = {}          # bucket -> [(a message's first row, 1 | 2 for the needle)]
    base = parse_start(args.start)

    local = pools.local
    n_local = len(local)
    external = pools.external
    n_ext = len(external)
    subjects = pools.subjects
    n_subj = len(subjects)
    sizes = pools.sizes
    ext_mx = pools.ext_mx
    ext_senders = pools.ext_senders
    aliases = pools.aliases          # distribution groups
    alias_list = pools.alias_list
    n_alias = len(alias_list)
    H = args.hosts

    class Srv:
        pass

    servers = []
    for i in range(H):
        s = Srv()
        s.name = "MBX%02d.corp.example.org" % (i + 1)
        s.short = "MBX%02d" % (i + 1)
        s.ip = "192.0.2.%d" % (11 + i) if i < 9 else "192.0.2.%d" % (60 + i)
        s.iid = 8000 + 16000 * (i == 0) + (rbits(20) % 1000)
        s.event = 88000 + 1100000 * (i == 0) + (rbits(20) % 10000)
        s.mdb = "%08x-%04x-4%03x-%04x-%012x" % (rbits(32), rbits(16), rbits(12), 0x8000 | rbits(14), rbits(48))
        s.frontend = "%s\\Default Frontend %s" % (s.short, s.short)
        s.default = "%s\\Default %s" % (s.short, s.short)
        s.me = "%s,%s" % (s.ip, s.name)
        s.self = s.me + "," + s.me          # client-ip,client-hostname,server-ip,server-hostname
        servers.append(s)
    # Each local mailbox lives on one server.
    home = {}
    for i, a in enumerate(local):
        home[a] = servers[i % H]
    mailbox_guid = {}

    def guid():
        x = "%032x" % rbits(128)
        return "%s-%s-4%s-%s%s-%s" % (x[:8], x[8:12], x[13:16], "89ab"[rbits(2)], x[17:20], x[20:])

    def mbx_guid(a):
        g = mailbox_guid.get(a)
        if g is None:
            g = mailbox_guid[a] = guid()
        return g

    sec_cache = {}

    def iso(ms):
        sec = ms // 1000
        p = sec_cache.get(sec)
        if p is None:
            if len(sec_cache) > 20000:
                sec_cache.clear()
            tm = time.gmtime(base + sec)
            p = sec_cache[sec] = "%04d-%02d-%02dT%02d:%02d:%02d." % tm[:6]
        return "%s%03dZ" % (p, ms % 1000)

    # date-time, the four endpoint columns, source-context (quoted), connector-id, "source,event-id",
    # internal-message-id, "message-id,network-message-id", recipient-address, recipient-status,
    # total-bytes, recipient-count, related-recipient-address, reference,
    # "message-subject,sender-address,return-path", message-info, directionality, [tenant-id],
    # original-client-ip, original-server-ip, then custom-data, transport-traffic-type, log-id,
    # schema-version.
    ROW = (",".join(["%s"] * 16) + ",,%s,%s,S:DeliveryPriority=Normal;S:AccountForest=corp.example.org,Email,0,"
           + VERSION)

    # A message: (ids, tail, total-bytes, directionality, reference, subject, sender)
    def put(t, flag, ends, ctx, conn, srcevt, iid, m, rcpts, rstat, count, related, ref, info, oci="", osi=""):
        p = sec_cache.get(t // 1000)
        r = ROW % ("%s%03dZ" % (p, t % 1000) if p else iso(t), ends, ctx, conn, srcevt, iid, m[0], rcpts, rstat,
                   m[2], count, related, ref, m[1], info, m[3], oci, osi)
        k = t // 10
        b = buckets.get(k)
        if b is None:
            buckets[k] = [r]
        else:
            b.append(r)
        if flag:
            mk = marks.get(k)
            if mk is None:
                marks[k] = [(r, flag)]
            else:
                mk.append((r, flag))

    def store_ctx(s, mailbox, t, cls, client_type, assistant):
        s.event += 1 + (rbits(20) % 20)
        return '"MDB:%s, Mailbox:%s, Event:%d, MessageClass:%s, CreationTime:%s, ClientType:%s%s"' % (
            s.mdb, mailbox if mailbox == "multiple" else mbx_guid(mailbox), s.event, cls, iso(t), client_type,
            ", SubmissionAssistant:MailboxTransportSubmissionEmailAssistant" if assistant else "")

    def smtp_ctx(t, submit):
        return "08DE%012X;%s;%s" % (rbits(48), iso(t), "ClientSubmitTime:" if submit else "0")

    # message-info of a delivery: submit time, then per-server latency components
    for s in servers:
        s.latency = ["SRV=%s:TOTAL-SUB=0.%03d|SA=0.0%02d|MTSS=0.0%02d;SRV=%s:TOTAL-HUB=" % (
            s.name, rbits(9) % 400 + 50, rbits(6) % 60, rbits(6) % 60, s.name) for _ in range(64)]
        s.latency_tail = ["|SMR=0.1%02d|CAT=0.0%02d" % (rbits(6) % 60, rbits(6) % 50) for _ in range(64)]

    def latency(t0, s, t):
        return "%s;%s%.3f%s" % (iso(t0), s.latency[rbits(6)], (t - t0) / 1000.0, s.latency_tail[rbits(6)])

    def new_msg(mid, subj, sender, ret, size, direction, ref=""):
        return ("%s,%s" % (mid, guid()), "%s,%s,%s" % (csvq(subj), sender, ret), str(size), direction, ref, subj,
                sender)

    SUBMIT_M = ("", "", "", "Originating")

    def deliver_on(s, m, t, rcpts, t0, iid):
        ctx = store_ctx(s, rcpts[0] if len(rcpts) == 1 else "multiple", t0, "IPM.Note",
                        "User" if m[3] == "Incoming" else "MOMT", False)
        put(t, 0, s.self, ctx, "", "STOREDRIVER,DELIVER", iid, m, lst(rcpts), "", len(rcpts), "", m[4],
            latency(t0, s, t) if rnd() < 0.5 else "")

    LED_INTRA = ('"LED=451 4.4.0 Primary target IP address responded with: ""421 4.3.2 Service not available, '
                 'closing transmission channel."";FQDN=%s;IP=%s"')
    ST_INTRA = ('"451 4.4.0 Primary target IP address responded with: ""421 4.3.2 Service not available, '
                'closing transmission channel."""')
    LED_EXT = ('"LED=441 4.4.1 Error encountered while communicating with primary target IP address: '
               '""Failed to connect. Winsock error code: 10060"";FQDN=%s;IP=%s"')
    ST_EXT = "441 4.4.1 Error encountered while communicating with primary target IP address"
    ST_NOTFOUND = "'550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found'"
    INTRA = "Intra-Organization SMTP Send Connector"
    OUT = "Outbound to Internet"

    def route(s, m, t, iid, rcpts, t0):
        """Expand, resolve, deliver and send on server s from time t; rcpts: the envelope."""
        nr = len(rcpts)
        final = []
        for a in rcpts:
            mem = aliases.get(a)
            if mem is not None:
                t += 5 + (rbits(20) % 20)
                put(t, 0, s.self, "", "", "ROUTING,EXPAND", iid, m, lst(mem), "", nr, a, "", "")
                final.extend(mem)
            elif a[-11:] == "example.org" and rnd() < 0.05:
                # a secondary address resolved to the primary one
                prim = a[:a.index("@")].split(".")[0] + "@example.org"
                t += 3 + (rbits(20) % 15)
                put(t, 0, s.self, "", "", "ROUTING,RESOLVE", iid, m, member(prim), "", nr, member(a), "", "")
                final.append(prim)
            else:
                final.append(a)
        here = []
        there = {}
        ext = []
        failed = []
        for a in final:
            if a[-11:] != "example.org":
                ext.append(a)
            elif rnd() < 0.01:
                failed.append(a)
                t += 2 + (rbits(20) % 10)
                put(t, 0, s.self, "", "", "ROUTING,FAIL", iid, m, member(a), ST_NOTFOUND, nr, "", "", "")
            else:
                hs = home.get(a, s)
                if hs is s:
                    here.append(a)
                elif hs.name in there:
                    there[hs.name][1].append(a)
                else:
                    there[hs.name] = (hs, [a])
        tend = t
        if here:
            td = t + 100 + (rbits(20) % 500)
            deliver_on(s, m, td, here, t0, iid)
            tend = td
        for hs, rs in there.values():
            ts = t + 30 + (rbits(20) % 300)
            l = lst(rs)
            ends = "%s,%s" % (s.me, hs.me)
            if rnd() < 0.02:
                put(ts, 0, s.self, LED_INTRA % (hs.name, hs.ip), INTRA, "SMTP,DEFER", iid, m, l, ST_INTRA, len(rs),
                    "", "", "")
                ts += 300000 + (rbits(20) % 60000)
            put(ts, 0, ends, smtp_ctx(ts - 20, False), INTRA, "SMTP,SEND", iid, m, l, "250 2.1.5 Recipient OK",
                len(rs), "", "", "")
            hs.iid += 1
            tr = ts + 10 + (rbits(20) % 40)
            put(tr, 0, ends, smtp_ctx(tr - 10, True), hs.default, "SMTP,RECEIVE", hs.iid, m, l, "", len(rs), "",
                m[4], "", s.ip, s.ip)
            td = tr + 100 + (rbits(20) % 400)
            deliver_on(hs, m, td, rs, t0, hs.iid)
            if td > tend:
                tend = td
        for a in ext:
            mxn, mxip = ext_mx[a[a.index("@") + 1:]]
            ts = t + 200 + (rbits(20) % 1500)
            ends = "%s,%s,%s" % (s.me, mxip, mxn)
            if rnd() < 0.05:
                put(ts, 0, s.self, LED_EXT % (mxn, mxip), OUT, "SMTP,DEFER", iid, m, member(a), ST_EXT, 1,
                    "", "", "")
                ts += 300000 + (rbits(20) % 600000)
            if m[4] == "" and rnd() < 0.02:
                put(ts, 0, ends, "", OUT, "SMTP,FAIL", iid, m, member(a),
                    member("550 5.1.1 <%s>: Recipient address rejected: User unknown" % a), 1, "", "", "")
                failed.append(a)
            else:
                put(ts, 0, ends, smtp_ctx(ts - 200, False), OUT, "SMTP,SEND", iid, m, member(a),
                    "250 2.0.0 Ok: queued as %010X" % rbits(40), 1, "", "", "")
            if ts > tend:
                tend = ts
        if failed and m[4] == "":
            dsn(s, m, tend + 5 + (rbits(20) % 20), failed)

    def dsn(s, m, t, failed):
        """The NDR for failed recipients of m, written on s (a DSN is never answered by another)."""
        s.iid += 1
        iid = s.iid
        sender = m[6]
        orig_mid = m[0][:m[0].index(",")]
        dm = new_msg("<%024x@%s>" % (rbits(96), s.name), "Undeliverable: " + m[5], "postmaster@example.org", "",
                     9000 + (rbits(20) % 8000), "Originating", orig_mid)
        put(t, 1, s.self, "", "", "DSN,DSN", iid, dm, member(sender), "", 1, lst(failed), orig_mid, "")
        if sender[-11:] == "example.org":
            # originating mail is routed on its sender's own server: deliver the NDR here
            td = t + 30 + (rbits(20) % 100)
            put(td, 0, s.self, store_ctx(s, sender, t, "REPORT.IPM.Note.NDR", "System", False), "",
                "STOREDRIVER,DELIVER", iid, dm, member(sender), "", 1, "", orig_mid, "")
        else:
            mxn, mxip = ext_mx[sender[sender.index("@") + 1:]]
            ts = t + 300 + (rbits(20) % 700)
            put(ts, 0, "%s,%s,%s" % (s.me, mxip, mxn), smtp_ctx(ts - 200, False), OUT, "SMTP,SEND", iid, dm,
                member(sender), "250 2.0.0 Ok: queued as %010X" % rbits(40), 1, "", orig_mid, "")

    CLIENT_TYPES = ("MOMT", "OWA", "MOMT", "AirSync")
    RSTAT = ("To", "To", "Cc", "Bcc")

    def originating(t, needle):
        sender = NEEDLE if needle else local[rbits(20) % n_local]
        s = home.get(sender) or servers[rbits(20) % H]
        subj = subjects[rbits(20) % n_subj][1]
        size = sizes[rbits(12)]
        m = new_msg("<%024x@%s>" % (rbits(96), s.name), subj, sender, sender, size, "Originating")
        nr = bisect(RCPT_CUM, rnd()) + 1
        rcpts = []
        for _ in range(nr):
            r = rnd()
            if r < 0.5:
                rcpts.append(local[rbits(20) % n_local])
            elif r < 0.6:
                rcpts.append(alias_list[rbits(20) % n_alias])
            else:
                rcpts.append(external[rbits(20) % n_ext])
        ctx = store_ctx(s, sender, t - 500 - (rbits(20) % 500), "IPM.Note", CLIENT_TYPES[rbits(2)], True)
        put(t, 2 if needle else 1, s.self, ctx, "", "STOREDRIVER,SUBMIT", 0, (m[0], m[1]) + SUBMIT_M, "", "", "",
            "", "", "")
        s.iid += 1
        iid = s.iid
        t1 = t + 50 + (rbits(20) % 150)
        st = "To" if nr == 1 else "To;" + ";".join([RSTAT[rbits(2)] for _ in range(nr - 1)])
        put(t1, 0, s.self, ctx, "", "STOREDRIVER,RECEIVE", iid, m, lst(rcpts), st, nr, "", "", "", s.ip, s.ip)
        route(s, m, t1 + 10 + (rbits(20) % 30), iid, rcpts, t)

    def incoming(t):
        s = servers[rbits(20) % H]
        sender = external[rbits(20) % n_ext]
        d = sender[sender.index("@") + 1:]
        hs = ext_senders[d]
        cname, cip = hs[rbits(20) % len(hs)]
        subj = subjects[rbits(20) % n_subj][1]
        size = sizes[rbits(12)]
        stamp = iso(t)
        mid = "<%s%s%s%s%s%s.%X@%s>" % (stamp[:4], stamp[5:7], stamp[8:10], stamp[11:13], stamp[14:16],
                                          stamp[17:19], rbits(32), cname)
        ret = sender if rnd() < 0.7 else "bounces+%d@%s" % (rbits(16), d)
        m = new_msg(mid, subj, sender, ret, size, "Incoming")
        nr = bisect(RCPT_CUM, rnd()) + 1
        rcpts = [alias_list[rbits(20) % n_alias] if rnd() < 0.1 else local[rbits(20) % n_local]
                 for _ in range(nr)]
        s.iid += 1
        iid = s.iid
        l = lst(rcpts)
        put(t, 1, "%s,%s,%s" % (cip, cname, s.me), smtp_ctx(t - 400, True), s.frontend, "SMTP,RECEIVE", iid, m,
            l, "", nr, "", "", "", cip, s.ip)
        t1 = t + 5
        if rnd() < 0.1:
            put(t1, 0, s.self, "Transport Rule Agent", "", "AGENT,AGENTINFO", iid, m, l, "", nr, "", "", "")
        route(s, m, t1 + 10 + (rbits(20) % 30), iid, rcpts, t)

    # -------------------------------------------------------------
    nl = "\r\n"
    header = ["\ufeff#Software: Microsoft Exchange Server", "#Version: " + VERSION,
              "#Log-type: Message Tracking Log", "#Date: " + iso(0), "#Fields: " + MSGTRK_FIELDS]
    limit = w.limit
    parts = w.parts
    msgs = needles = 0
    written = min(limit, len(header))
    if written:
        parts.append(nl.join(header[:written]) + nl)
    t = 0
    next_rate_change = 0
    rate = 0.1
    nk = 0
    while written < limit:
        if t >= next_rate_change:
            rate = (50 + rnd() * 150) / 1000.0
            next_rate_change += 60000
        kt = t // 10
        while nk < kt:
            b = buckets.pop(nk, None)
            if b is not None:
                b.sort()
                m = marks.pop(nk, None)
                n = len(b)
                if written + n >= limit:
                    n = limit - written
                    b = b[:n]
                    if m:
                        keep = set(b)
                        m = [x for x in m if x[0] in keep]
                if m:
                    msgs += len(m)
                    for x in m:
                        needles += x[1] == 2
                written += n
                parts.append(nl.join(b) + nl)
                if len(parts) >= 128:    # about 0.8 MB
                    w.flush()
                    parts = w.parts
                if written >= limit:
                    break
            nk += 1
        if written >= limit:
            break
        if rnd() < 0.55:
            originating(t, rnd() < NEEDLE_P / 0.55)
        else:
            incoming(t)
        t += 1 + int(expo(rate))
    w.lines = written
    w.flush()
    return {"messages": msgs, "needle": needles}, t


def main():
    ap = argparse.ArgumentParser(description="Synthetic Postfix / Exchange MSGTRK logs for bench/ingest.sh.")
    ap.add_argument("--format", required=True, choices=("postfix", "msgtrk"))
    ap.add_argument("--lines", required=True, type=int, help="exactly this many lines (msgtrk: headers included)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-11-01T00:00:00",
                    help="simulated start, local time for postfix, UTC for msgtrk (default %(default)s)")
    ap.add_argument("--hosts", type=int, default=2, help="Postfix hosts mx1..mxN / Exchange servers MBX01..N")
    ap.add_argument("-o", "--output", help="output file (default: stdout)")
    args = ap.parse_args()
    if args.lines < 0:
        ap.error("--lines must be >= 0")
    if not 1 <= args.hosts <= 50:
        ap.error("--hosts must be between 1 and 50")
    parse_start(args.start)
    t0 = time.monotonic()
    try:
        out = open(args.output, "wb") if args.output else sys.stdout.buffer
    except OSError as e:
        ap.exit(1, "gen_logs.py: cannot write %s: %s\n" % (args.output, e.strerror))
    w = Writer(out, args.lines)
    try:
        if args.format == "postfix":
            stats, sim_ms = gen_postfix(args, w)
        else:
            stats, sim_ms = gen_msgtrk(args, w)
        w.close()
    except BrokenPipeError:
        # the reader went away (| head): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    if args.output:
        out.close()
    el = time.monotonic() - t0
    sys.stderr.write("lines=%d bytes=%d messages=%d needle_messages=%d simulated_seconds=%d "
                     "elapsed=%.2fs lines_per_s=%d\n"
                     % (w.lines, w.bytes, stats["messages"], stats["needle"], sim_ms // 1000, el,
                        w.lines / el if el > 0 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
