package pbft_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/consensus/pbft"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt with the current output")

// TestInteraction runs the golden scenarios in testdata/*.txt, in the style
// of etcd raft's interaction tests. Each case is a command line, "----", and
// the expected output up to a blank line. -rewrite regenerates the files.
func TestInteraction(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScenario(t, f) })
	}
}

type scenarioCase struct {
	pre      []string // comments and blank lines before the command
	cmd      string
	expected string
	line     int
}

func parseScenario(data string) ([]scenarioCase, []string, error) {
	lines := strings.Split(data, "\n")
	var cases []scenarioCase
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			return nil, nil, fmt.Errorf("line %d: command %q is not followed by ----", i+1, l)
		}
		c := scenarioCase{pre: pre, cmd: l, line: i + 1}
		pre = nil
		var exp []string
		for i += 2; i < len(lines) && lines[i] != ""; i++ {
			exp = append(exp, lines[i])
		}
		c.expected = strings.Join(exp, "\n")
		cases = append(cases, c)
	}
	return cases, pre, nil
}

func runScenario(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases, tail, err := parseScenario(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var c *cluster
	var out strings.Builder
	for _, sc := range cases {
		got, next := runCommand(t, c, sc.cmd)
		c = next
		if !*rewrite && got != sc.expected {
			t.Errorf("%s:%d: %s\n--- got:\n%s\n--- want:\n%s", path, sc.line, sc.cmd, got, sc.expected)
		}
		for _, p := range sc.pre {
			out.WriteString(p + "\n")
		}
		out.WriteString(sc.cmd + "\n----\n" + got + "\n\n")
	}
	for _, p := range tail {
		out.WriteString(p + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cmdArgs splits "deliver from=v0 type=Prepare" into words and key=values.
type cmdArgs struct {
	words []string
	kv    map[string]string
}

func parseArgs(fields []string) cmdArgs {
	a := cmdArgs{kv: map[string]string{}}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a.kv[k] = v
		} else {
			a.words = append(a.words, f)
		}
	}
	return a
}

func (a cmdArgs) has(w string) bool {
	for _, x := range a.words {
		if x == w {
			return true
		}
	}
	return false
}

func (a cmdArgs) int(k string, def int) int {
	if v, ok := a.kv[k]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// nodes returns the nodes named in words (v0, v1, ...), or all of them.
func (c *cluster) pick(a cmdArgs) []*hnode {
	var out []*hnode
	for _, w := range a.words {
		if i, err := strconv.Atoi(strings.TrimPrefix(w, "v")); err == nil && strings.HasPrefix(w, "v") && i < len(c.nodes) {
			out = append(out, c.nodes[i])
		}
	}
	if len(out) == 0 {
		return c.nodes
	}
	return out
}

func runCommand(t *testing.T, c *cluster, line string) (string, *cluster) {
	fields := strings.Fields(line)
	a := parseArgs(fields[1:])
	if fields[0] == "cluster" {
		nc, err := newCluster(a.int("n", 4), a.int("timeout", 4))
		if err != nil {
			t.Fatal(err)
		}
		nc.verbose = a.has("verbose")
		return finish(nc), nc
	}
	if c == nil {
		t.Fatalf("%q before cluster", line)
	}
	if err := c.run(fields[0], a); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return finish(c), c
}

func finish(c *cluster) string {
	s := strings.TrimRight(c.out.String(), "\n")
	c.out.Reset()
	if s == "" {
		return "ok"
	}
	return s
}

func (c *cluster) run(cmd string, a cmdArgs) error {
	switch cmd {
	case "pending":
		c.setPending(a)
	case "tick":
		c.tick(a)
	case "propose":
		c.doPropose(c.pick(a)[0], a.kv["name"], a.has("bad"))
	case "validate":
		c.validateCmd(a)
	case "deliver":
		c.deliverCmd(a, true)
	case "drop":
		c.deliverCmd(a, false)
	case "queue":
		c.printQueue()
	case "crash":
		c.crash(c.pick(a)[0])
	case "restart":
		return c.restart(c.pick(a)[0])
	case "status":
		for _, nd := range c.pick(a) {
			c.status(nd)
		}
	case "stabilize":
		c.stabilize(a.int("max", 50))
	case "sync":
		c.doSync(c.pick(a)[0])
	case "inject":
		return c.injectCmd(a)
	case "wal":
		c.printWAL(c.pick(a)[0])
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	return nil
}

func (c *cluster) setPending(a cmdArgs) {
	on := !a.has("off")
	for _, nd := range c.pick(a) {
		nd.pending = on
		if !nd.crashed {
			nd.m.HasPending(on)
			c.process(nd)
		}
	}
}

func (c *cluster) tick(a cmdArgs) {
	for range a.int("n", 1) {
		for _, nd := range c.pick(a) {
			if !nd.crashed {
				nd.m.Tick()
				c.process(nd)
			}
		}
	}
}

func (c *cluster) validateCmd(a cmdArgs) {
	force := ""
	if a.has("ok") {
		force = "ok"
	} else if a.has("bad") {
		force = "bad"
	}
	for _, nd := range c.pick(a) {
		if !nd.crashed {
			c.answer(nd, force)
		}
	}
}

// matches filters queued messages by from=, to= and type=.
func (c *cluster) matches(q queued, a cmdArgs) bool {
	if f, ok := a.kv["from"]; ok && f != c.name(q.from) {
		return false
	}
	if to, ok := a.kv["to"]; ok && !strings.Contains(","+to+",", ","+c.name(q.to)+",") {
		return false
	}
	if ty, ok := a.kv["type"]; ok {
		msg, err := pbft.DecodeMessage(q.raw)
		if err != nil || !strings.EqualFold(msg.Type.String(), ty) {
			return false
		}
	}
	return true
}

// deliverCmd delivers (or drops) the matching messages queued right now;
// messages they cause wait for the next command.
func (c *cluster) deliverCmd(a cmdArgs, deliver bool) {
	snapshot := c.queue
	c.queue = nil
	var rest []queued
	for _, q := range snapshot {
		switch {
		case !c.matches(q, a):
			rest = append(rest, q)
		case deliver:
			c.deliver(q)
		}
	}
	c.queue = append(rest, c.queue...)
}

func (c *cluster) crash(nd *hnode) {
	nd.crashed = true
	nd.chain = nd.chain.Clone(nd.durable)
	c.printf("%s: crashed at durable height %d", c.name(nd.idx), nd.durable)
}

func (c *cluster) restart(nd *hnode) error {
	nd.crashed = false
	c.printf("%s: restarting", c.name(nd.idx))
	return c.start(nd)
}

// stabilize delivers everything and answers every request until quiet.
// Time does not pass: timeouts need explicit ticks.
func (c *cluster) stabilize(max int) {
	for range max {
		busy := false
		for _, nd := range c.nodes {
			if nd.crashed {
				continue
			}
			if len(nd.validate) > 0 {
				c.answer(nd, "")
				busy = true
			}
			if nd.propose != nil && nd.pending {
				c.doPropose(nd, "", false)
				busy = true
			}
			if nd.sync != nil {
				c.doSync(nd)
				busy = true
			}
		}
		if len(c.queue) > 0 {
			c.deliverCmd(cmdArgs{kv: map[string]string{}}, true)
			busy = true
		}
		if !busy {
			return
		}
	}
	c.printf("not stable after %d rounds", max)
}

// injectCmd: inject from=v0 to=v1,v2 type=PrePrepare h=1 v=0 block=name [new] [bad]
// signs a message with from's key. With "new", block names a new block
// built on from's chain; otherwise an earlier block or, failing that, a
// random-looking hash.
func (c *cluster) injectCmd(a cmdArgs) error {
	from := c.nodes[0]
	if f, ok := a.kv["from"]; ok {
		i, _ := strconv.Atoi(strings.TrimPrefix(f, "v"))
		from = c.nodes[i]
	}
	var to []int
	for _, n := range strings.Split(a.kv["to"], ",") {
		i, _ := strconv.Atoi(strings.TrimPrefix(n, "v"))
		to = append(to, i)
	}
	msg := &pbft.Message{Height: uint64(a.int("h", 1)), View: uint64(a.int("v", 0))}
	for t := pbft.MsgPrePrepare; t <= pbft.MsgCertificate; t++ {
		if strings.EqualFold(t.String(), a.kv["type"]) {
			msg.Type = t
		}
	}
	msg.Hash, msg.Block = c.blockArg(from, msg.View, a)
	if msg.Type != pbft.MsgPrePrepare {
		msg.Block = nil
	}
	return c.inject(from, to, msg)
}

func (c *cluster) blockArg(from *hnode, view uint64, a cmdArgs) (common.Hash, []byte) {
	name := a.kv["block"]
	if a.has("new") {
		return c.build(from, view, name, a.has("bad"))
	}
	for h, n := range c.names {
		if n == name {
			return h, []byte{1}
		}
	}
	h := c.s.Hash([]byte(name))
	c.names[h] = name
	return h, []byte{1}
}

func (c *cluster) printWAL(nd *hnode) {
	if nd.wal == nil {
		c.printf("%s: wal empty", c.name(nd.idx))
		return
	}
	hs, err := pbft.DecodeHardState(nd.wal)
	if err != nil {
		c.printf("%s: wal corrupt: %v", c.name(nd.idx), err)
		return
	}
	c.printf("%s: wal %s", c.name(nd.idx), c.fmtHS(hs))
}
