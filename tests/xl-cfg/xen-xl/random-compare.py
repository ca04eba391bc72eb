#!/usr/bin/env python3
"""Random configs through Xen 4.17's xl and domus's xl (both `-N create`),
or, with --vif, random `-N network-attach` arguments.

Builds N configs from a menu of keys and values, runs both, and counts
byte-identical JSON (uuid passed to domus from Xen's output).  Other outcomes
are grouped by domus's reason where it is a documented difference
(docs/xl-cfg.md), and shown in full otherwise.  Maintainer tool; see
compare.sh for how to get Xen's xl and run it here.
usage: random-compare.py [--vif] XEN_XL DOMUS_XL LIBFAKEXEN XS_SOCKET [N [SEED]]
"""
import collections, difflib, os, random, re, subprocess, sys, tempfile

MENU = {
    'type': ['"pv"', '"pvh"', '"hvm"'],
    'memory': ['128', '0x200', '"256"', '1024'],
    'maxmem': ['2048', '512'],
    'vcpus': ['1', '2', '4'],
    'maxvcpus': ['4', '8'],
    'cpus': ['"0-3"', '"1,3"', '["1","2-3"]', '"0-7,^4"'],
    'cpu_weight': ['256', '512'],
    'cap': ['0', '50'],
    'kernel': ['"/boot/k"'],
    'ramdisk': ['"/boot/i"'],
    'extra': ['"console=hvc0"', '"a b"'],
    'root': ['"/dev/xvda1 ro"'],
    'cmdline': ['"quiet"'],
    'bootloader_args': ['["-q"]', '[ "--entry=1", "x" ]'],
    'on_poweroff': ['"destroy"', '"restart"', '"preserve"'],
    'on_reboot': ['"restart"', '"destroy"', '"rename-restart"'],
    'on_crash': ['"coredump-destroy"', '"restart"'],
    'on_watchdog': ['"preserve"'],
    'on_soft_reset': ['"soft-reset"', '"destroy"'],
    'serial': ['"pty"', '["pty","file:/x"]'],
    'uuid': ['"11111111-2222-3333-4444-555555555555"'],
    'disk': ['[ "file:/a,xvda,w" ]', '[ "/a,qcow2,xvda,r", "phy:/dev/b,xvdb,w" ]',
             '[ ",,hdc:cdrom,r", "vdev=xvdb,target=/x" ]',
             '[ "/a,raw,d2p3,w,discard", "/b,vhd,sdc,r" ]'],
    'vif': ['[ "" ]', '[ "mac=00:16:3e:01:02:03,bridge=br0", "ip=1.2.3.4,script=vif-route" ]',
            '[ "rate=5Mb/s@10ms,model=e1000,type=ioemu,vifname=v0" ]'],
}
# domus's message -> documented difference
KNOWN = [('neither kernel nor bootloader', 'no kernel (domus has no firmware)'),
         ('memory must be <= maxmem', 'memory > maxmem'),
         ('vcpus must be <= maxvcpus', 'vcpus > maxvcpus')]


VIF_MENU = ['mac=00:16:3e:12:34:56', 'mac=00:16:3e:1:2:3', 'mac=00-16-3e-aa-bb-cc',
            'mac=02:00:00:00:00:01', 'bridge=xenbr0', 'bridge=', 'ip=10.0.0.1',
            'ip=10.0.0.1 10.0.0.2', 'script=vif-route', 'vifname=web0', 'type=vif',
            'type=ioemu', 'model=e1000', 'rate=10Mb/s', 'rate=1MB/s@20ms',
            'gatewaydev=eth0', 'mtu=1400', 'trusted', 'untrusted', 'mac=01:00:5e:00:00:01']


def vif_main(xen, domus, xen_env, domus_env, n):
    """Separate arguments only: in one argument Xen keeps half-read settings
    (docs/xl-cfg.md), so those differ by design."""
    same, other = 0, 0
    for _ in range(n):
        args = ['-N', 'network-attach', '1'] + random.sample(VIF_MENU, random.randint(1, 4))
        x = subprocess.run([xen] + args, capture_output=True, text=True, env=xen_env, timeout=10)
        d = subprocess.run([domus] + args, capture_output=True, text=True, env=domus_env)
        if x.returncode == d.returncode and x.stdout == d.stdout:
            same += 1
        elif 'multicast' in d.stderr:
            same += 1  # Xen takes a multicast MAC; domus refuses it on purpose
        else:
            other += 1
            print('----', args[3:], x.returncode, d.returncode, x.stdout, x.stderr, d.stdout, d.stderr)
    print('%d identical or refused on purpose, %d other' % (same, other))
    return 1 if other else 0


def main():
    vif = sys.argv[1] == '--vif'
    argv = sys.argv[1:] if not vif else sys.argv[2:]
    xen, domus, fake, sock = argv[0:4]
    n = int(argv[4]) if len(argv) > 4 else 300
    random.seed(int(argv[5]) if len(argv) > 5 else 1)
    xen_env = dict(os.environ, XENSTORED_PATH=sock, LD_PRELOAD=fake)
    domus_env = dict(os.environ, DOMUS_XL_CONF='/dev/null')
    if vif:
        return vif_main(xen, domus, xen_env, domus_env, n)
    same, other = 0, 0
    known = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, 'r.cfg')
        for i in range(n):
            keys = random.sample(sorted(MENU), random.randint(2, 10))
            if 'kernel' not in keys and random.random() < 0.8:
                keys.append('kernel')
            lines = ['name = "r%d"' % i] + ['%s = %s' % (k, random.choice(MENU[k])) for k in keys]
            with open(cfg, 'w') as f:
                f.write('\n'.join(lines) + '\n')
            x = subprocess.run([xen, '-N', 'create', cfg], capture_output=True, text=True, env=xen_env)
            m = re.search(r'"uuid": "([^"]+)"', x.stdout)
            d = subprocess.run([domus, '-N', 'create', cfg] + (['uuid="%s"' % m.group(1)] if m else []),
                               capture_output=True, text=True, env=domus_env)
            if x.returncode == 0 and d.returncode == 0 and x.stdout == d.stdout:
                same += 1
                continue
            why = next((w for msg, w in KNOWN if msg in d.stderr), None)
            if why:
                known[why] += 1
                continue
            other += 1
            print('---- xen rc %d, domus rc %d' % (x.returncode, d.returncode))
            print('\n'.join(lines))
            print(x.stderr + d.stderr)
            print(''.join(difflib.unified_diff(x.stdout.splitlines(True), d.stdout.splitlines(True),
                                               'xen', 'domus')))
    print('%d identical, %s, %d other' % (same, dict(known), other))
    return 1 if other else 0


if __name__ == '__main__':
    sys.exit(main())
