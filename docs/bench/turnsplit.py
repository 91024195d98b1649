"""turnsplit.py SERVER CLIENT: join the per-say stage times noted by a binary built with
docs/bench/turnsplit.patch (see turnsplit.sh) and print each stage's median, 90th
percentile and mean over the says seen at every stage. Each line of the files is
"port id stage unix-nanoseconds". For the echo baseline the server notes only its read
and its write, so the stages in between are zero."""
import collections
import sys
ev = collections.defaultdict(dict)
for fn in sys.argv[1:3]:
    for line in open(fn):
        port, id, kind, t = line.split()
        ev[(port, id)][kind] = int(t)
order = 'srditpajofbwc'
# Each stage ends at its mark: its time is from the mark before it.
names = {
    'r': "to the server's read",
    'd': 'helper, decoding',
    'i': "the call's lock",
    't': 'timers due, afterStep',
    'p': 'step setup',
    'a': "the engine's Apply",
    'j': "the journal's append",
    'o': 'sendOutputs',
    'f': 'settle, to the flush',
    'b': 'to the writer',
    'w': 'the write system call',
    'c': 'to the client',
}
for e in ev.values():
    if 'r' in e and 'f' in e and 'i' not in e:  # the echo server: nothing between
        for k in 'ditpajo':
            e[k] = e['r']
full = [e for e in ev.values() if all(x in e for x in order)]
n = len(full)
if n == 0:
    sys.exit('no say was seen at every stage: was the binary built with turnsplit.patch?')
print('says', n)
def row(name, v):
    v.sort()
    print(f"{name:26s} p50 {v[n//2]/1e3:7.1f} us  p90 {v[n*9//10]/1e3:7.1f}  mean {sum(v)/n/1e3:7.1f}")
for a, b in zip(order, order[1:]):
    row(names[b], [e[b] - e[a] for e in full])
row('total', [e['c'] - e['s'] for e in full])
