#!/usr/bin/env python3
"""t/e2e/run.py: end to end with real daemons (run as root).

Starts a private mail system on loopback only -- Postfix (its own
config_directory, queue and data directories), Dovecot (its own base_dir;
LMTP, IMAP and SASL auth on 127.0.0.1), and smtp-sink instances on 127.0.0.2-4
playing the MXs of example.net and example.com -- logging to files (Postfix
maillog_file, Dovecot log_path with the mail_log plugin, header_checks
logging Subject, To and Cc). It sends the messages below with swaks and
sendmail, reads and deletes with IMAP, and has `msgtrack-index follow` (as
the unprivileged --user) ingest both logs while this happens. Each
recipient's state is asserted through `msgtrack-index find/report --json`,
polling until it holds or the time runs out (the index is eventually
consistent with the logs; no fixed sleeps). Then the daemons stop, follow
must have read every line of both logs and parsed them all, and indexes
built afterwards by `ingest` from the same logs must give the same reports
(one order of the two logs is a known problem: a TODO test).

  m1 local     alice (authenticated submission) to bob (To), carol (Cc),
               dave (Bcc): bob reads it, carol deletes it unread, dave moves
               it to Trash unread; carol's Sieve script keeps it in INBOX
  m2 alias     paula@example.net (plain SMTP) to team@ (bob, erin): bob's
               copy in INBOX, erin's Sieve script files hers into Lists
  m3 relay     alice to lee@example.net: the example.net sink accepts
  m4 bounce    alice to nobody@example.net: the sink answers 550 5.1.1;
               the NDR goes back to alice
  m5 deferral  alice to frank@example.com: the sink answers 451 4.7.1 (the
               index must show it Pending with the deferral), then accepts
               and the queue is flushed
  m6 rejected  alice to nosuch@example.org: refused at RCPT, no queue file
  m7 unknown   sendmail (pickup) from alice to ghost@example.org, whom
               Postfix knows and Dovecot does not: LMTP bounces it, NDR

Writes into --out: index/ (the Berkeley DB environment, owned by --user),
logs/maillog and logs/dovecot.log, follow.err, run.log, and run.json (what
was sent, the report ids, each recipient's asserted state, the result), all
readable by --user, for the module stage (t/e2e.t). Prints TAP.

Exit status: 0 every assertion held; 1 something failed (daemons that do not
start included); 77 skipped: not root or the daemons are not installed (the
reason is printed, and recorded in run.json).

  run.py --msgtrack-index PATH --user NAME --out DIR [--keep] [--timeout S]
"""

import argparse
import grp
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP, FAIL = 77, 1
DOMAIN = 'example.org'
HOST = 'mail.example.org'          # myhostname, and --host for msgtrack-index
PASSWORD = 'e2e-secret'
USERS = ['alice', 'bob', 'carol', 'dave', 'erin']
PROGRAMS = ['postfix', 'postconf', 'postqueue', 'sendmail', 'smtp-sink', 'dovecot', 'swaks']
DOVECOT_MODULES = ['lib90_sieve_plugin.so', 'lib20_mail_log_plugin.so', 'lib15_notify_plugin.so']
DOVECOT_SERVICES = ['lmtp', 'imap', 'imap-login']


def addr(user):
    return '%s@%s' % (user, DOMAIN)


# ------------------------------------------------------------------ TAP

class Tap:
    def __init__(self, log):
        self.n = 0
        self.failed = []
        self.todo_failed = []
        self.log = log

    def emit(self, line):
        print(line, flush=True)
        self.log.write(line + '\n')
        self.log.flush()

    def note(self, msg):
        for line in str(msg).splitlines() or ['']:
            self.emit('# ' + line)

    def ok(self, cond, name, diag=None, todo=None):
        """One test. A failing @todo test (a known problem, named) is
        reported, TAP style, and fails nothing."""
        self.n += 1
        self.emit('%s %d - %s%s' % ('ok' if cond else 'not ok', self.n, name,
                                    ' # TODO ' + todo if todo else ''))
        if not cond:
            if todo:
                self.todo_failed.append(name)
            else:
                self.failed.append(name)
            if diag:
                self.note(diag)
        return cond


class Broken(Exception):
    """The mail system did not do what the test needs (not an assertion)."""


# ------------------------------------------------------------------ helpers

def free_port(host='127.0.0.1'):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(what, pred, timeout, interval=0.1):
    """Polls pred() until it returns a true value; returns it, or raises
    Broken naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Broken('timed out after %gs waiting for %s' % (timeout, what))
        time.sleep(interval)


def wait_port(host, port, timeout=20):
    def up():
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False
    wait_for('%s:%d to listen' % (host, port), up, timeout)


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # a zombie is not alive; it is not ours to reap
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ')[-1][:1] != 'Z'
    except OSError:
        return False


def write(path, text, mode=0o644):
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


COMMAND_TIMEOUT = 120


def run(cmd, check=True, **kw):
    """Runs a command to completion, its output captured."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT, **kw)
    except subprocess.TimeoutExpired:
        raise Broken('%s: still running after %ds' % (' '.join(cmd), COMMAND_TIMEOUT))
    if check and p.returncode != 0:
        raise Broken('%s: exit %d\n%s' % (' '.join(cmd), p.returncode, p.stdout))
    return p


def start_daemon(cmd, log):
    """Runs a command that puts a daemon in the background: its output goes
    to @log (a pipe would stay open in the daemon)."""
    log.flush()
    rc = subprocess.call(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    if rc != 0:
        raise Broken('%s: exit %d (see run.log)' % (' '.join(cmd), rc))


# ------------------------------------------------------------------ the mail system

class MailSystem:
    def __init__(self, root, user, log):
        self.root = root
        self.log = log
        pw = pwd.getpwnam(user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.pf = os.path.join(root, 'postfix')         # config_directory
        self.dv = os.path.join(root, 'dovecot')
        self.logdir = os.path.join(root, 'logs')
        self.maillog = os.path.join(self.logdir, 'maillog')
        self.dovelog = os.path.join(self.logdir, 'dovecot.log')
        self.port = {k: free_port() for k in ('smtp', 'submission', 'lmtp', 'imap', 'auth')}
        # the MXs of the outside world, each on an address of its own
        self.sink_addr = {'net': '127.0.0.2', 'bounce': '127.0.0.3', 'com': '127.0.0.4'}
        self.sink_port = {k: free_port(a) for k, a in self.sink_addr.items()}
        self.sinks = {}
        self.postfix_up = self.dovecot_up = False

    # -------------------------------------------------------------- files
    def configure(self):
        for d in (self.pf, self.dv, self.logdir, os.path.join(self.root, 'spool'),
                  os.path.join(self.root, 'data'), os.path.join(self.root, 'mail')):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        # Created here, world-readable, so that msgtrack-index (not root) reads them.
        for f in (self.maillog, self.dovelog):
            write(f, '')
        os.chown(os.path.join(self.root, 'data'), pwd.getpwnam('postfix').pw_uid, -1)
        os.chown(os.path.join(self.root, 'mail'), self.uid, self.gid)
        self.configure_postfix()
        self.configure_dovecot()

    def configure_postfix(self):
        pf, p, s = self.pf, self.port, self.sink_addr
        write(os.path.join(pf, 'main.cf'), f"""\
# Private Postfix instance of the end-to-end test: loopback only, no DNS.
compatibility_level = 3.6
queue_directory = {self.root}/spool
data_directory = {self.root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = {HOST}
mydomain = {DOMAIN}
myorigin = $mydomain
mydestination =
mynetworks =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_bind_address = 127.0.0.1
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no
maillog_file = {self.maillog}
maillog_file_prefixes = {self.root}
# example.org lives in Dovecot, over LMTP
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{pf}/vmailbox
virtual_alias_maps = texthash:{pf}/virtual
virtual_transport = lmtp:inet:[127.0.0.1]:{p['lmtp']}
# the outside world: smtp-sink instances; anything else fails at once
transport_maps = texthash:{pf}/transport
default_transport = error:5.4.4 no outside world in this test
relay_transport = error:5.4.4 no outside world in this test
relayhost =
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
header_checks = regexp:{pf}/header_checks
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{p['auth']}
smtpd_tls_security_level = none
smtp_tls_security_level = none
# no waiting anywhere: the test drives the queue itself (postqueue -f)
in_flow_delay = 0
""")
        write(os.path.join(pf, 'master.cf'), f"""\
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:{p['smtp']} inet n - n - - smtpd
127.0.0.1:{p['submission']} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
""")
        # Postfix knows ghost@, Dovecot does not (m7).
        write(os.path.join(pf, 'vmailbox'),
              ''.join('%s OK\n' % addr(u) for u in USERS + ['ghost']))
        write(os.path.join(pf, 'virtual'),
              'team@%s bob@%s, erin@%s\n' % (DOMAIN, DOMAIN, DOMAIN))
        write(os.path.join(pf, 'transport'), ''.join([
            'nobody@example.net smtp:[%s]:%d\n' % (s['bounce'], self.sink_port['bounce']),
            'example.net smtp:[%s]:%d\n' % (s['net'], self.sink_port['net']),
            'example.com smtp:[%s]:%d\n' % (s['com'], self.sink_port['com']),
        ]))
        write(os.path.join(pf, 'header_checks'), '/^Subject:/ INFO\n/^To:/ INFO\n/^Cc:/ INFO\n')

    def configure_dovecot(self):
        dv, p, root = self.dv, self.port, self.root
        users = os.path.join(dv, 'users')
        write(users, ''.join('%s:{PLAIN}%s::::::\n' % (addr(u), PASSWORD) for u in USERS), 0o640)
        os.chown(users, 0, grp.getgrnam('dovecot').gr_gid)    # auth runs as dovecot
        write(os.path.join(dv, 'dovecot.conf'), f"""\
# Private Dovecot instance of the end-to-end test: loopback only.
base_dir = {root}/dovecot-run
state_dir = {root}/dovecot-state
instance_name = msgtrack-e2e
protocols = imap lmtp
listen = 127.0.0.1
log_path = {self.dovelog}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {self.uid}
last_valid_uid = {self.uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dv}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dv}/users
  default_fields = uid={self.uid} gid={self.gid} home={root}/mail/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
  mailbox Lists {{
    auto = create
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {p['lmtp']}
  }}
  unix_listener lmtp {{
    mode = 0600
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {p['imap']}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {p['auth']}
  }}
}}
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
protocol imap {{
  mail_plugins = $mail_plugins notify mail_log
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename flag_change save
  mail_log_fields = uid box msgid size vsize from subject flags
}}
""")
        sieve = {
            # erin files list mail into Lists (m2)
            'erin': 'require "fileinto";\nif exists "List-Id" {\n  fileinto "Lists";\n}\n',
            # carol's script does nothing for these messages: the implicit keep
            'carol': 'require "fileinto";\nif header :contains "Subject" "[spam]" {\n  fileinto "Junk";\n}\n',
        }
        for u in USERS:
            home = os.path.join(root, 'mail', DOMAIN, u)
            os.makedirs(home, exist_ok=True)
            if u in sieve:
                write(os.path.join(home, '.dovecot.sieve'), sieve[u])
        chown_tree(os.path.join(root, 'mail'), self.uid, self.gid)   # the mail uid's homes

    # -------------------------------------------------------------- daemons
    def postfix(self, *args, check=True):
        return run(['postfix', '-c', self.pf] + list(args), check=check)

    def start(self):
        start_daemon(['dovecot', '-c', os.path.join(self.dv, 'dovecot.conf')], self.log)
        self.dovecot_up = True
        for k in ('imap', 'lmtp', 'auth'):
            wait_port('127.0.0.1', self.port[k])
        self.start_sink('net')
        self.start_sink('bounce', '-f', 'RCPT', '-B',
                        '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown')
        self.start_sink('com', '-r', 'RCPT', '-b',
                        '451 4.7.1 <frank@example.com>: Recipient address rejected: Greylisted, try again later')
        self.postfix('check')
        start_daemon(['postfix', '-c', self.pf, 'start'], self.log)
        self.postfix_up = True
        for k in ('smtp', 'submission'):
            wait_port('127.0.0.1', self.port[k])

    def start_sink(self, name, *opts):
        host = self.sink_addr[name]
        cmd = ['smtp-sink', '-u', 'nobody', '-h', 'mx.%s.example' % name] + list(opts) \
            + ['%s:%d' % (host, self.sink_port[name]), '16']
        self.sinks[name] = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        wait_port(host, self.sink_port[name])

    def stop_sink(self, name):
        p = self.sinks.pop(name, None)
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self):
        """Stops everything this instance started; never raises."""
        errors = []
        if self.postfix_up:
            try:
                pid = read_pid(os.path.join(self.root, 'spool', 'pid', 'master.pid'))
                p = self.postfix('stop', check=False)
                if p.returncode != 0:
                    self.postfix('abort', check=False)
                if pid:
                    wait_for('postfix to stop', lambda: not alive(pid), 10)
            except Exception as e:     # noqa: BLE001 -- cleanup goes on
                errors.append('postfix: %s' % e)
            self.postfix_up = False
        if self.dovecot_up:
            try:
                pid = read_pid(os.path.join(self.root, 'dovecot-run', 'master.pid'))
                run(['dovecot', '-c', os.path.join(self.dv, 'dovecot.conf'), 'stop'], check=False)
                if pid:
                    wait_for('dovecot to stop', lambda: not alive(pid), 10)
            except Exception as e:     # noqa: BLE001
                errors.append('dovecot: %s' % e)
            self.dovecot_up = False
        for name in list(self.sinks):
            self.stop_sink(name)
        return errors

    def queue(self):
        """The queue as postqueue -j lists it: a list of dicts."""
        out = run(['postqueue', '-c', self.pf, '-j']).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def flush(self):
        run(['postqueue', '-c', self.pf, '-f'])



# ------------------------------------------------------------------ msgtrack-index

class Index:
    """msgtrack-index, run as the unprivileged user (the environment's files
    must belong to whoever serves them later)."""

    def __init__(self, binary, db, user):
        self.binary = binary
        self.db = db
        self.user = user
        pw = pwd.getpwnam(user)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.follower = None

    def _as_user(self):
        return dict(user=self.uid, group=self.gid, extra_groups=[],
                    env={'PATH': '/usr/bin:/bin', 'HOME': self.home, 'LC_ALL': 'C.UTF-8'})

    def run(self, *args):
        cmd = [self.binary, '--db', self.db] + list(args)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=COMMAND_TIMEOUT,
                               **self._as_user())
        except subprocess.TimeoutExpired:
            raise Broken('%s: still running after %ds' % (' '.join(cmd), COMMAND_TIMEOUT))
        return p.returncode, p.stdout, p.stderr

    def json(self, *args):
        rc, out, err = self.run(*args, '--json')
        if rc != 0:
            return None, 'exit %d: %s' % (rc, err.strip())
        try:
            return json.loads(out), None
        except ValueError as e:
            return None, 'not JSON (%s): %s' % (e, out[:500])

    def follow(self, files, errfile):
        self.follower = subprocess.Popen(
            [self.binary, '--db', self.db, 'follow', '--host', HOST] + files,
            stdin=subprocess.DEVNULL, stdout=errfile, stderr=errfile, **self._as_user())

    def stop_follow(self, timeout=20):
        """SIGTERM: follow ends after the current batch. Returns its exit status."""
        p, self.follower = self.follower, None
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return 'killed: SIGTERM did not end it within %ds' % timeout
        return p.returncode


# ------------------------------------------------------------------ the messages

def message(mid, subject, headers, body='Sent by the mod_msgtrack end-to-end test.\n'):
    lines = ['%s: %s' % kv for kv in headers]
    lines += ['Subject: ' + subject, 'Message-Id: ' + mid,
              'Date: ' + time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime()),
              'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body]
    return '\n'.join(lines)


class Scenario:
    def __init__(self, ms, ix, tap, runid, timeout):
        self.ms, self.ix, self.tap = ms, ix, tap
        self.runid = runid
        self.timeout = timeout
        self.sent = {}          # tag -> {message_id, sender, subject, recipients}
        self.observed = {}      # facts seen on the way (the live Pending state)

    def mid(self, tag):
        return '<%s.%s@ws-alice.example.org>' % (tag, self.runid)

    def swaks(self, tag, sender, rcpts, subject, headers, submission=True, expect_rc=0,
              mid=None):
        mid = mid or self.mid(tag)
        path = os.path.join(self.ms.root, tag + '.eml')
        write(path, message(mid, subject, headers))
        cmd = ['swaks', '--server', '127.0.0.1', '--from', sender, '--to', ','.join(rcpts),
               '--data', '@' + path, '--timeout', '20']
        if submission:
            cmd += ['--port', str(self.ms.port['submission']), '--ehlo', 'ws-alice.example.org',
                    '--auth', 'PLAIN', '--auth-user', sender, '--auth-password', PASSWORD]
        else:
            cmd += ['--port', str(self.ms.port['smtp']), '--ehlo', 'mail.example.net']
        p = run(cmd, check=False)
        self.tap.ok(p.returncode == expect_rc, '%s: swaks exits %d' % (tag, expect_rc),
                    'exit %d\n%s' % (p.returncode, p.stdout[-2000:]))
        self.sent[tag] = {'message_id': mid, 'sender': sender, 'subject': subject,
                          'recipients': rcpts}
        return p

    def sendmail(self, tag, sender, rcpts, subject, headers):
        mid = self.mid(tag)
        p = subprocess.run(['sendmail', '-C', self.ms.pf, '-f', sender, '-i'] + rcpts,
                           input=message(mid, subject, headers), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=COMMAND_TIMEOUT)
        self.tap.ok(p.returncode == 0, '%s: sendmail exits 0' % tag, p.stdout)
        self.sent[tag] = {'message_id': mid, 'sender': sender, 'subject': subject,
                          'recipients': rcpts}

    # -------------------------------------------------------------- IMAP
    def imap(self, user):
        c = imaplib.IMAP4('127.0.0.1', self.ms.port['imap'], timeout=20)
        c.login(addr(user), PASSWORD)
        return c

    def find_uid(self, c, box, mid):
        typ, _ = c.select(box)
        if typ != 'OK':
            raise Broken('IMAP SELECT %s failed' % box)
        typ, data = c.uid('SEARCH', 'HEADER', 'Message-ID', mid)
        uids = data[0].split() if typ == 'OK' and data and data[0] else []
        return uids[0].decode() if uids else None

    def wait_mailbox(self, user, box, mid):
        def there():
            try:
                c = self.imap(user)
            except (OSError, imaplib.IMAP4.error):
                return None                   # not ready: try again
            try:
                return self.find_uid(c, box, mid)
            finally:
                c.logout()
        return wait_for('%s in %s\'s %s' % (mid, user, box), there, self.timeout, 0.2)

    def imap_do(self, user, what, mid):
        c = self.imap(user)
        try:
            uid = self.find_uid(c, 'INBOX', mid)
            if not uid:
                raise Broken('%s: %s not in INBOX' % (user, mid))
            if what == 'read':             # what a client does to show it: fetch the body
                typ, _ = c.uid('FETCH', uid, '(BODY[])')
            elif what == 'delete':         # delete unread, then expunge
                typ, _ = c.uid('STORE', uid, '+FLAGS.SILENT', '(\\Deleted)')
                if typ == 'OK':
                    typ, _ = c.expunge()
            elif what == 'trash':          # move to Trash unread
                typ, _ = c.uid('MOVE', uid, 'Trash')
            else:
                raise ValueError(what)
            if typ != 'OK':
                raise Broken('%s: IMAP %s of %s failed' % (user, what, mid))
        finally:
            c.logout()

    # -------------------------------------------------------------- sending
    def send_all(self):
        a, b, c, d, e = (addr(u) for u in USERS)
        hdr = [('From', 'Alice Example <%s>' % a)]
        # m1: To, Cc and a Bcc recipient (named in no header): one LMTP transaction
        self.swaks('m1', a, [b, c, d], 'e2e: Q3 results, final figures',
                   hdr + [('To', 'Bob Example <%s>' % b), ('Cc', c)])
        # m2: from outside, plain SMTP, to the team@ alias; a list header for erin's Sieve
        self.swaks('m2', 'paula@example.net', ['team@' + DOMAIN],
                   '=?UTF-8?Q?Caf=C3=A9_menu_for_Friday=E2=80=99s_offsite?=',
                   [('From', 'Paula Partner <paula@example.net>'), ('To', 'team@' + DOMAIN),
                    ('List-Id', 'Offsite planning <offsite.example.net>')],
                   submission=False, mid='<m2.%s@mail.example.net>' % self.runid)
        self.sent['m2']['subject_decoded'] = 'Café menu for Friday’s offsite'
        # m3: relayed to example.net's MX
        self.swaks('m3', a, ['lee@example.net'], 'e2e: contract draft v3',
                   hdr + [('To', 'lee@example.net')])
        # m4: example.net's MX says 550 5.1.1: bounce and NDR
        self.swaks('m4', a, ['nobody@example.net'], 'e2e: supplier day',
                   hdr + [('To', 'nobody@example.net')])
        # m5: example.com's MX says 451 4.7.1 for now
        self.swaks('m5', a, ['frank@example.com'], 'e2e: meeting notes',
                   hdr + [('To', 'frank@example.com')])
        # m6: refused at RCPT: swaks exits 24 (no recipients accepted)
        p = self.swaks('m6', a, ['nosuch@' + DOMAIN], 'e2e: to nobody here',
                       hdr + [('To', 'nosuch@' + DOMAIN)], expect_rc=24)
        self.tap.ok('550 5.1.1' in p.stdout, 'm6: the RCPT is refused with 550 5.1.1',
                    p.stdout[-2000:])
        self.sent['m6']['message_id'] = None   # never queued: no Message-ID logged
        # m7: local submission (pickup) to an address Dovecot does not know
        self.sendmail('m7', a, ['ghost@' + DOMAIN], 'e2e: to a ghost',
                      hdr + [('To', 'ghost@' + DOMAIN)])

    def mailbox_actions(self):
        m1 = self.sent['m1']['message_id']
        for u in ('bob', 'carol', 'dave'):
            self.wait_mailbox(u, 'INBOX', m1)
        self.wait_mailbox('bob', 'INBOX', self.sent['m2']['message_id'])
        self.wait_mailbox('erin', 'Lists', self.sent['m2']['message_id'])
        self.imap_do('bob', 'read', m1)
        self.imap_do('carol', 'delete', m1)
        self.imap_do('dave', 'trash', m1)

    def deferral_then_delivery(self, checks):
        """m5: the index shows the deferral while it lasts; then the MX
        accepts, the queue is flushed, and the message goes."""
        checks.live_pending('m5', 'frank@example.com')
        self.ms.stop_sink('com')
        self.ms.start_sink('com')
        self.ms.flush()

    def wait_queue_empty(self):
        wait_for('the Postfix queue to empty', lambda: not self.ms.queue(), self.timeout, 0.2)


# ------------------------------------------------------------------ what the index must say

# Each recipient's last event (the Summary) and the descriptions its
# RecipientPath must contain, in this order (other events may come between).
EXPECT = {
    'm1': {
        'bob@example.org': dict(status='Read', description='Read',
                                path=['Submitted', 'Delivered', 'Read']),
        'carol@example.org': dict(status='Delivered', description='NotRead',
                                  path=['Submitted', 'Delivered', 'NotRead']),
        'dave@example.org': dict(status='Delivered', description='NotRead', bcc=True,
                                 path=['Submitted', 'Delivered', 'NotRead']),
    },
    'm2': {
        'bob@example.org': dict(status='Delivered', description='Delivered', root='team@example.org',
                                path=['SmtpReceive', 'Expanded', 'Delivered']),
        'erin@example.org': dict(status='Delivered', description='MovedToFolderByInboxRule',
                                 data=['Lists'], root='team@example.org',
                                 path=['SmtpReceive', 'Expanded', 'Delivered',
                                       'MovedToFolderByInboxRule']),
    },
    'm3': {
        'lee@example.net': dict(status='Transferred', description='TransferredToForeignOrg',
                                data_prefix='127.0.0.2[127.0.0.2]:',
                                path=['Submitted', 'TransferredToForeignOrg']),
    },
    'm4': {
        'nobody@example.net': dict(status='Unsuccessful', description='FailedGeneral',
                                   dsn='5.1.1', text='550 5.1.1 <nobody@example.net>',
                                   path=['Submitted', 'FailedGeneral']),
    },
    'm5': {
        'frank@example.com': dict(status='Transferred', description='TransferredToForeignOrg',
                                  data_prefix='127.0.0.4[127.0.0.4]:',
                                  path=['Submitted', 'MessageDefer', 'TransferredToForeignOrg']),
    },
    'm6': {
        'nosuch@example.org': dict(status='Unsuccessful', description='FailedGeneral',
                                   dsn='5.1.1', text='550 5.1.1 <nosuch@example.org>',
                                   path=['FailedGeneral']),
    },
    'm7': {
        'ghost@example.org': dict(status='Unsuccessful', description='FailedGeneral',
                                  dsn='5.1.1', text="User doesn't exist",
                                  path=['Submitted', 'FailedGeneral']),
    },
}


def subsequence(want, got):
    it = iter(got)
    return all(any(w == g for g in it) for w in want)


def check_event(ev, exp):
    """Problems of one event against an EXPECT entry: a list of strings."""
    bad = []
    for k, field in (('status', 'delivery_status'), ('description', 'event_description')):
        if ev.get(field) != exp[k]:
            bad.append('%s is %r, not %r' % (field, ev.get(field), exp[k]))
    data = ev.get('event_data') or []
    if 'data' in exp and data != exp['data']:
        bad.append('event_data is %r, not %r' % (data, exp['data']))
    if 'data_prefix' in exp and not (data and data[0].startswith(exp['data_prefix'])):
        bad.append('event_data %r does not start with %r' % (data, exp['data_prefix']))
    if 'dsn' in exp and not (data and data[0] == exp['dsn']):
        bad.append('event_data %r does not start with the DSN %s' % (data, exp['dsn']))
    if 'text' in exp and not (len(data) > 1 and exp['text'] in data[1]):
        bad.append('event_data %r does not hold %r' % (data, exp['text']))
    if ev.get('bcc') != exp.get('bcc', False):
        bad.append('bcc is %r' % ev.get('bcc'))
    if ev.get('root_address') != exp.get('root'):
        bad.append('root_address is %r, not %r' % (ev.get('root_address'), exp.get('root')))
    return bad


def brief(reports):
    """A message's reports (Checks.all_reports) in a line or two: each
    Summary event, then each recipient's path, as descriptions."""
    if not reports or not reports['summary']:
        return repr(reports)
    ev = lambda e: '%s %s/%s' % (e['recipient'], e['delivery_status'],  # noqa: E731
                                 e['event_description'])
    return 'summary [%s] paths [%s]' % (
        ', '.join(ev(e) for e in reports['summary']['events']),
        '; '.join('%s: %s' % (r, ' '.join(e['event_description'] for e in p['events']) if p else p)
                  for r, p in sorted(reports['paths'].items())))


class Checks:
    def __init__(self, sc, ix, tap, start, timeout):
        self.sc, self.ix, self.tap = sc, ix, tap
        self.start = start                  # xs:dateTime: the run's first second
        self.timeout = timeout
        self.results = {}                   # tag -> what run.json records

    def eventually(self, name, probe, timeout=None):
        """One test: polls probe() -> (ok, diag) until ok or the time runs out."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            ok, diag = probe()
            if ok or time.monotonic() > deadline:
                return self.tap.ok(ok, name, diag)
            time.sleep(0.25)

    def report(self, ident, rcpt=None, ix=None):
        args = ['report', ident] + (['--recipient', rcpt] if rcpt else [])
        return (ix or self.ix).json(*args)

    def find(self, *args, ix=None):
        return (ix or self.ix).json('find', '--start', self.start, *args)

    def ident(self, tag, ix=None):
        """What `report` takes for this message: its Message-ID, else its report id."""
        mid = self.sc.sent[tag]['message_id']
        if mid:
            return mid
        rcpt = self.sc.sent[tag]['recipients'][0]
        found, _ = self.find('--recipient', rcpt, ix=ix)
        return found[0]['report_id'] if found else None

    def all_reports(self, ix):
        """Every message's Summary and each expected recipient's path, as
        `report --json` gives them: what must not depend on how the index
        was built."""
        out = {}
        for tag in sorted(EXPECT):
            ident = self.ident(tag, ix)
            out[tag] = ident and {
                'summary': self.report(ident, ix=ix)[0],
                'paths': {r: self.report(ident, r, ix=ix)[0] for r in sorted(EXPECT[tag])}}
        return out

    def rebuilt(self, logs, workdir):
        """The live index against ones built afterwards by `ingest` from the
        same logs: the Postfix log read first, then the Dovecot log first."""
        live = self.all_reports(self.ix)
        for name, order, todo in (
                ('Postfix log first', logs, None),
                # Hops are ordered by their first second, then by when they
                # were indexed: a Dovecot hop indexed before the Postfix hop
                # of the same second sorts before it (mt_query.c, hop_cmp).
                ('Dovecot log first', logs[::-1],
                 'ties within a second follow the order of indexing')):
            ix = Index(self.ix.binary, os.path.join(workdir, name.split()[0].lower()), self.ix.user)
            errs = []
            for f in order:
                rc, so, se = ix.run('ingest', '--host', HOST, f)
                if rc != 0 or se:
                    errs.append('ingest %s: exit %d: %s' % (f, rc, se))
            again = self.all_reports(ix)
            diffs = []
            for tag in sorted(live):
                if live[tag] != again[tag]:
                    diffs.append('%s live:    %s\n%s rebuilt: %s' % (
                        tag, brief(live[tag]), tag, brief(again[tag])))
            self.tap.ok(not errs and not diffs,
                        'an index built afterwards from the same logs (%s) gives the same reports' % name,
                        '\n'.join(errs + diffs)[-6000:], todo=todo)

    # -------------------------------------------------------------- live
    def live_pending(self, tag, rcpt):
        mid = self.sc.sent[tag]['message_id']

        def probe():
            rep, err = self.report(mid, rcpt)
            if err:
                return False, err
            evs = rep['events']
            last = evs[-1] if evs else {}
            ok = (last.get('delivery_status') == 'Pending'
                  and last.get('event_description') == 'MessageDefer'
                  and (last.get('event_data') or [''])[0] == '4.7.1'
                  and last.get('queue_event') is True)
            if ok:
                self.sc.observed['%s_pending' % tag] = last
            return ok, json.dumps(evs, indent=1, ensure_ascii=False)
        self.eventually('%s: while deferred, the index shows %s Pending (MessageDefer 4.7.1, '
                        'a queue event)' % (tag, rcpt), probe)

    # -------------------------------------------------------------- final states
    def recipient_states(self):
        for tag in sorted(EXPECT):
            ident = None

            def probe_ident():
                nonlocal ident
                ident = self.ident(tag)
                return bool(ident), 'not found in the index'
            if not self.eventually('%s: in the index' % tag, probe_ident):
                continue
            for rcpt, exp in sorted(EXPECT[tag].items()):
                self.eventually('%s: %s is %s (%s)' % (tag, rcpt, exp['status'], exp['description']),
                                lambda: self.summary_ok(ident, rcpt, exp))
                self.eventually('%s: %s\'s path has %s' % (tag, rcpt, ', '.join(exp['path'])),
                                lambda: self.path_ok(ident, rcpt, exp))
            self.record(tag, ident)

    def summary_ok(self, ident, rcpt, exp):
        rep, err = self.report(ident)
        if err:
            return False, err
        evs = [e for e in rep['events'] if e['recipient'] == rcpt]
        if len(evs) != 1:
            return False, '%d summary events for %s:\n%s' % (
                len(evs), rcpt, json.dumps(rep['events'], indent=1, ensure_ascii=False))
        bad = check_event(evs[0], exp)
        return not bad, '\n'.join(bad + [json.dumps(evs[0], ensure_ascii=False)])

    def path_ok(self, ident, rcpt, exp):
        rep, err = self.report(ident, rcpt)
        if err:
            return False, err
        evs = rep['events']
        descs = [e['event_description'] for e in evs]
        bad = []
        if not subsequence(exp['path'], descs):
            bad.append('path is %s' % ', '.join(descs))
        if any(e['recipient'] != rcpt for e in evs):
            bad.append('events of other recipients in the path')
        if evs and check_event(evs[-1], exp):
            bad += ['last event: ' + b for b in check_event(evs[-1], exp)]
        for e in evs:
            if e['event_description'] == 'MessageDefer' and not (
                    e['queue_event'] and (e['event_data'] or [''])[0].startswith('4.')):
                bad.append('MessageDefer without a 4.x.x DSN or not a queue event')
        return not bad, '\n'.join(bad + [json.dumps(evs, indent=1, ensure_ascii=False)])

    def record(self, tag, ident):
        rep, _ = self.report(ident)
        sent = self.sc.sent[tag]
        self.results[tag] = dict(sent, ident=ident, summary=rep, paths={
            r: self.report(ident, r)[0] for r in EXPECT[tag]})

    # -------------------------------------------------------------- searches
    def searches(self):
        sent = self.sc.sent
        mids = lambda res: sorted((r['message_id'] or '') for r in res)  # noqa: E731
        want = sorted((sent[t]['message_id'] or '') for t in ('m1', 'm3', 'm4', 'm5', 'm6', 'm7'))

        def by_sender():
            res, err = self.find('--sender', addr('alice'))
            if err:
                return False, err
            return mids(res) == want, 'found %s\nwanted %s' % (mids(res), want)
        self.eventually('find --sender alice: her six messages (m6 without a Message-ID)', by_sender)

        def to_bob():
            res, err = self.find('--recipient', addr('bob'))
            if err:
                return False, err
            w = sorted(sent[t]['message_id'] for t in ('m1', 'm2'))
            return mids(res) == w, 'found %s\nwanted %s' % (mids(res), w)
        self.eventually('find --recipient bob: m1, and m2 through team@', to_bob)

        res, err = self.find('--message-id', sent['m1']['message_id'])
        r = res[0] if res else {}
        self.tap.ok(r.get('recipients') == [addr(u) for u in ('bob', 'carol', 'dave')]
                    and r.get('subject') == sent['m1']['subject'] and r.get('sender') == addr('alice'),
                    'm1: sender, subject and every recipient (the Bcc one too) in find',
                    err or json.dumps(res, ensure_ascii=False))
        res, err = self.find('--message-id', sent['m2']['message_id'])
        r = res[0] if res else {}
        self.tap.ok(r.get('subject') == sent['m2']['subject_decoded']
                    and r.get('recipients') == ['team@' + DOMAIN],
                    'm2: the RFC 2047 subject decoded; the alias as the recipient',
                    err or json.dumps(res, ensure_ascii=False))
        for tag in sent:
            if tag in self.results:
                found = [x for x in (self.find('--sender', sent[tag]['sender'])[0] or [])
                         if x['message_id'] == sent[tag]['message_id']
                         and (x['message_id'] or x['recipients'] == sent[tag]['recipients'])]
                self.results[tag]['report_id'] = found[0]['report_id'] if found else None
                self.results[tag]['submitted'] = found[0]['submitted'] if found else None

    def ndrs(self):
        """m4 and m7 bounced: an NDR from <> to alice, linked to the message."""
        for tag in ('m4', 'm7'):
            mid = self.sc.sent[tag]['message_id']
            ndr = {}

            def probe():
                rc, out, err = self.ix.run('dump')
                if rc != 0:
                    return False, err
                for line in out.splitlines():
                    if line.startswith('hop ') and ' ref="%s"' % mid in line:
                        m = re.search(r' msgid="([^"]*)"', line)
                        ok = (' notify="non-delivery"' in line and ' sender=""' in line
                              and not re.search(r' ndr_of=0\b', line) and ' ndr_of=' in line and m)
                        if ok:
                            ndr['message_id'] = m.group(1)
                        return ok, line
                return False, 'no hop refers to %s' % mid
            if not self.eventually('%s: the NDR is linked to it (ref, ndr_of)' % tag, probe):
                continue

            def delivered():
                rep, err = self.report(ndr['message_id'])
                if err:
                    return False, err
                evs = rep['events']
                ok = (rep['sender'] == '' and [e['recipient'] for e in evs] == [addr('alice')]
                      and evs[0]['delivery_status'] == 'Delivered')
                return ok, json.dumps(rep, indent=1, ensure_ascii=False)
            self.eventually('%s: the NDR is delivered to alice' % tag, delivered)
            res, _ = self.find('--message-id', ndr['message_id'])
            ndr['report_id'] = res[0]['report_id'] if res else None
            self.results.setdefault(tag, {})['ndr'] = ndr


# ------------------------------------------------------------------ main

def preconditions():
    """The reason to skip, or None."""
    if os.geteuid() != 0:
        return 'needs root (Postfix\'s master and daemons start as root); scripts/test.sh runs it so'
    missing = [p for p in PROGRAMS if not shutil.which(p, path='/usr/sbin:/usr/bin:/sbin:/bin')]
    missing += [m for m in DOVECOT_MODULES if not os.path.exists('/usr/lib/dovecot/modules/' + m)]
    missing += [s for s in DOVECOT_SERVICES if not os.path.exists('/usr/lib/dovecot/' + s)]
    for u, g in (('postfix', None), ('dovecot', 'dovecot'), ('dovenull', None), ('nobody', None)):
        try:
            pwd.getpwnam(u)
            if g:
                grp.getgrnam(g)
        except KeyError:
            missing.append('user ' + u)
    try:
        grp.getgrnam('postdrop')
    except KeyError:
        missing.append('group postdrop')
    if missing:
        return ('mail daemons not installed (Debian: postfix dovecot-core dovecot-lmtpd '
                'dovecot-sieve dovecot-imapd swaks); missing: ' + ', '.join(missing))
    return None


def line_count(path):
    with open(path, 'rb') as f:
        return f.read().count(b'\n')


def xs_time(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def chown_tree(path, uid, gid):
    for dirpath, dirs, files in os.walk(path):
        os.chown(dirpath, uid, gid)
        for f in files:
            os.lchown(os.path.join(dirpath, f), uid, gid)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--msgtrack-index', required=True, help='the built msgtrack-index')
    ap.add_argument('--user', required=True,
                    help='unprivileged user: runs msgtrack-index, owns the mail and the index')
    ap.add_argument('--out', default=os.path.join(here, 'out'), help='results (default t/e2e/out)')
    ap.add_argument('--keep', action='store_true', help='keep the private directory (daemon configs, queue, mail)')
    ap.add_argument('--timeout', type=float, default=30, help='seconds to wait for each fact (default 30)')
    args = ap.parse_args()

    try:
        pw = pwd.getpwnam(args.user)
    except KeyError:
        ap.error('no such user: %s' % args.user)
    binary = os.path.abspath(args.msgtrack_index)
    if not os.access(binary, os.X_OK):
        ap.error('%s is not executable' % binary)
    out = os.path.abspath(args.out)
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, 'run.json')):
        ap.error('%s exists and is not an earlier run\'s output: not removing it' % out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    os.chmod(out, 0o755)

    t0 = time.time()
    state = {'result': 'fail', 'reason': None, 'start': xs_time(t0 - 1), 'tests': 0, 'failed': []}
    log = open(os.path.join(out, 'run.log'), 'w')
    tap = Tap(log)

    def finish(result, reason=None, code=None):
        state.update(result=result, reason=reason, end=xs_time(time.time() + 1),
                     tests=tap.n, failed=tap.failed, todo_failed=tap.todo_failed,
                     seconds=round(time.time() - t0, 1))
        with open(os.path.join(out, 'run.json'), 'w') as f:
            json.dump(state, f, indent=1, ensure_ascii=False)
            f.write('\n')
        log.close()
        chown_tree(out, pw.pw_uid, pw.pw_gid)
        return code

    reason = preconditions()
    if reason:
        print('1..0 # SKIP ' + reason, flush=True)
        return finish('skip', reason, SKIP)

    # SIGTERM and SIGHUP end the run like ^C: every daemon is stopped on the way out.
    def interrupted(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    root = tempfile.mkdtemp(prefix='msgtrack-e2e.')
    os.chmod(root, 0o755)
    ms = MailSystem(root, args.user, log)
    ix = Index(binary, os.path.join(out, 'index'), args.user)
    runid = '%x%04x' % (int(t0), os.getpid() & 0xffff)
    sc = Scenario(ms, ix, tap, runid, args.timeout)
    checks = Checks(sc, ix, tap, state['start'], args.timeout)
    result, reason, code = 'fail', None, FAIL
    try:
        os.chown(out, pw.pw_uid, pw.pw_gid)
        ms.configure()
        tap.note('private directory %s; ports %s; sinks %s' % (
            root, ms.port, {k: '%s:%d' % (ms.sink_addr[k], ms.sink_port[k]) for k in ms.sink_addr}))
        ms.start()
        tap.note('postfix, dovecot and smtp-sink started (%.1fs)' % (time.time() - t0))
        ix.follow([ms.maillog, ms.dovelog], open(os.path.join(out, 'follow.err'), 'w'))

        sc.send_all()
        sc.mailbox_actions()
        sc.deferral_then_delivery(checks)
        sc.wait_queue_empty()
        tap.note('mail sent, read, deleted, flushed (%.1fs)' % (time.time() - t0))

        checks.recipient_states()
        checks.searches()
        checks.ndrs()
        state['observed'] = sc.observed
        state['messages'] = checks.results
        tap.note('index checked live (%.1fs)' % (time.time() - t0))

        # The daemons' last words (shutdown lines) are read too, then follow ends.
        errors = ms.stop()
        tap.ok(not errors, 'the daemons stop', '\n'.join(errors))
        total = line_count(ms.maillog) + line_count(ms.dovelog)

        def caught_up():
            st, err = ix.json('stats')
            return bool(st) and st['lines'] == total, err or 'stats: %s, the logs: %d lines' % (st, total)
        checks.eventually('follow reads every line of both logs (%d)' % total, caught_up)
        rc = ix.stop_follow()
        tap.ok(rc == 0, 'follow ends with status 0 on SIGTERM', 'status %s' % rc)
        with open(os.path.join(out, 'follow.err')) as f:
            err = f.read()
        tap.ok(err == '', 'follow reports no line it could not parse', err[-3000:])
        st, err = ix.json('stats')
        tap.ok(st and st['lines_not_parsed'] == 0, 'stats: no line left unparsed', err or json.dumps(st))
        state['stats'] = st
        rc, so, se = ix.run('verify')
        tap.ok(rc == 0, 'verify: the index is consistent', so + se)
        rebuild = os.path.join(root, 'rebuild')
        os.mkdir(rebuild)
        os.chown(rebuild, pw.pw_uid, pw.pw_gid)
        checks.rebuilt([ms.maillog, ms.dovelog], rebuild)

        if tap.failed:
            reason = '%d of %d failed' % (len(tap.failed), tap.n)
        else:
            result, code = 'pass', 0
    except Broken as e:
        tap.ok(False, 'the mail system does what the test needs', str(e))
        reason = str(e).splitlines()[0]
    except KeyboardInterrupt as e:
        tap.ok(False, 'not interrupted', str(e))
        reason = 'interrupted (%s)' % e
    except Exception as e:         # noqa: BLE001 -- recorded, then cleanup
        import traceback
        tap.ok(False, 'no error in the test itself', traceback.format_exc())
        reason = '%s: %s' % (type(e).__name__, e)
    finally:
        ix.stop_follow(5)
        ms.stop()
        logs = os.path.join(out, 'logs')
        os.makedirs(logs, exist_ok=True)
        for f in (ms.maillog, ms.dovelog):
            if os.path.exists(f):
                shutil.copy(f, logs)
        if args.keep:
            tap.note('kept %s' % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    tap.emit('1..%d' % tap.n)
    tap.note('%s: %d tests, %d failed, %d known problems (TODO), %.1fs' % (
        result.upper(), tap.n, len(tap.failed), len(tap.todo_failed), time.time() - t0))
    return finish(result, reason, code)


if __name__ == '__main__':
    sys.exit(main())
