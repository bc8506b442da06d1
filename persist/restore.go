package persist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/internal/hostlock"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/rules"
)

// DefaultLockPath is the lock file of a host's transactional runs.
const DefaultLockPath = "/run/ipvsadm.lock"

// Env is the world of one ipvsadm-save or ipvsadm-restore run.
type Env struct {
	compat.Env
	// LockPath is the lock file that serialises --atomic, --sync and
	// --file runs; DefaultLockPath when empty.
	LockPath string
}

func (env *Env) lock() (*hostlock.Held, error) {
	p := env.LockPath
	if p == "" {
		p = DefaultLockPath
	}
	return hostlock.Lock(p)
}

// A restoreMode is how ipvsadm-restore loads its input.
type restoreMode int

const (
	modeClassic restoreMode = iota // ipvsadm -C, then ipvsadm -R
	modeAtomic                     // the same, as one transaction
	modeSync                       // only the difference, as one transaction
)

// restoreOptions is an ipvsadm-restore command line.
type restoreOptions struct {
	mode         restoreMode
	dryRun       bool
	allowMissing bool
	file         string // "" or "-" for standard input
}

const restoreUsage = "Usage: %[1]s [--atomic | --sync] [--dry-run] [--allow-missing] [FILE]\n" +
	"  without --atomic or --sync, the table is cleared and standard input restored\n" +
	"  line by line, as ipvsadm 1.31's %[1]s does (any argument is ignored)\n"

// parseRestoreArgs reads the options. The wrapper of 1.31 ignores its
// arguments, so without --atomic or --sync any argument still is, but
// --dry-run and --allow-missing alone are refused: ignoring them would
// clear the table of someone who asked for no change at all.
func parseRestoreArgs(args []string) (restoreOptions, string) {
	var o restoreOptions
	var files []string
	var others []string
	for _, a := range args {
		switch a {
		case "--atomic", "--sync":
			mode := modeAtomic
			if a == "--sync" {
				mode = modeSync
			}
			if o.mode != modeClassic && o.mode != mode {
				return o, "--atomic and --sync exclude each other"
			}
			o.mode = mode
		case "--dry-run":
			o.dryRun = true
		case "--allow-missing":
			o.allowMissing = true
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				others = append(others, a)
			} else {
				files = append(files, a)
			}
		}
	}
	if o.mode == modeClassic {
		if o.dryRun || o.allowMissing {
			return o, "--dry-run and --allow-missing need --atomic or --sync"
		}
		return o, ""
	}
	switch {
	case len(others) > 0:
		return o, "unknown option " + others[0]
	case len(files) > 1:
		return o, "more than one FILE"
	case len(files) == 1:
		o.file = files[0]
	}
	return o, ""
}

// RestoreMain runs ipvsadm-restore in env and returns its exit status.
func RestoreMain(env Env) int {
	prog := path.Base(env.Args[0])
	o, usage := parseRestoreArgs(env.Args[1:])
	if usage != "" {
		fmt.Fprintf(env.Stderr, "%s: %s\n"+restoreUsage, prog, usage)
		return 2
	}
	if o.mode == modeClassic {
		return compat.RestoreMain(env.Env)
	}
	r := restorer{env: env, prog: prog, opts: o}
	return r.run()
}

// A restorer is one transactional ipvsadm-restore run.
type restorer struct {
	env   Env
	prog  string
	opts  restoreOptions
	input []byte
}

// restoreGCPercent is the garbage collector's GOGC for a transactional
// restore. It holds the input, its rule set and the plan until it exits,
// and little of what it allocates becomes garbage before: with the default
// of 100, a load of 10,000 services ran four collections, each marking the
// whole table again, 0.2 s of 1 s in the VM; with 400 it runs one, and its
// peak heap is not larger (82 MB against 91 MB at 50,000 services).
const restoreGCPercent = 400

func (r *restorer) run() int {
	debug.SetGCPercent(restoreGCPercent)
	if status, ok := r.read(); !ok {
		return status
	}
	want, err := rules.Parse(bytes.NewReader(r.input), r.env.Names)
	if err != nil {
		return r.fail(err, "nothing was changed")
	}
	// IPVS first, so that a user who may not change it hears what
	// ipvsadm says to them; then the lock, before the table is read.
	client, status := compat.Open(r.env.Env)
	if client == nil {
		return status
	}
	defer client.Close()
	lock, err := r.env.lock()
	if err != nil {
		fmt.Fprintf(r.env.Stderr, "%s: %v\n", r.prog, err)
		return 1
	}
	defer lock.Unlock()

	live, err := rules.Read(client)
	if err != nil {
		fmt.Fprintf(r.env.Stderr, "%s: reading the table: %s\n", r.prog, compat.KernelMessage(ipvs.CmdGetService, err))
		return 1
	}
	plan := rules.Diff(live, want)
	if r.opts.mode == modeAtomic {
		plan = rules.Replace(live, want)
	}
	if r.opts.dryRun {
		var b []byte
		for _, op := range plan.Writes() {
			b = append(compat.AppendRule(b, op), '\n')
		}
		r.env.Stdout.Write(b)
		return 0
	}
	if err := plan.Apply(client); err != nil {
		var rerr *rules.Error
		if errors.As(err, &rerr) && rerr.Rollback != nil {
			return r.fail(err, "ROLLING BACK FAILED, the table is partly changed: "+rerr.Rollback.Error())
		}
		return r.fail(err, "every change was undone, the table is as it was")
	}
	if r.opts.mode == modeSync && len(plan.Steps) > 0 {
		return r.verify(client, plan, want)
	}
	return 0
}

// verify reads the table after a sync: the lock keeps other runs of ours
// out, but not other programs (ipvsadm 1.31, keepalived, kube-proxy). If
// the table is not what the input asks for, one of them wrote to it during
// the run, and whatever the sync did may rest on what it read before: its
// writes are undone, and the other program's left.
func (r *restorer) verify(client *ipvs.Client, plan *rules.Plan, want *rules.Set) int {
	after, err := rules.Read(client)
	if err != nil {
		fmt.Fprintf(r.env.Stderr, "%s: reading the table back: %s\n%s: the changes were made but could not be checked\n",
			r.prog, compat.KernelMessage(ipvs.CmdGetService, err), r.prog)
		return 1
	}
	left := rules.Diff(after, want)
	if len(left.Steps) == 0 {
		return 0
	}
	writes := "1 write"
	if n := len(left.Steps); n > 1 {
		writes = fmt.Sprintf("%d writes", n)
	}
	fmt.Fprintf(r.env.Stderr, "%s: another program changed the table during the sync: it is %s away from the input, the first: %s\n",
		r.prog, writes, compat.AppendRule(nil, left.Steps[0].Op))
	if err := plan.Undo(client); err != nil {
		fmt.Fprintf(r.env.Stderr, "%s: UNDOING FAILED, the table is partly changed: %v\n", r.prog, err)
		return 1
	}
	fmt.Fprintf(r.env.Stderr, "%s: every change of this run was undone; the other program's changes are kept\n", r.prog)
	return 1
}

// read reads the input: FILE, or standard input.
func (r *restorer) read() (int, bool) {
	var err error
	if r.opts.file == "" || r.opts.file == "-" {
		r.input, err = readAll(r.env.Stdin)
	} else {
		r.input, err = os.ReadFile(r.opts.file)
		if r.opts.allowMissing && errors.Is(err, fs.ErrNotExist) {
			// The unit's start on a host without a rules file yet:
			// an empty table, not a failure.
			r.input, err = nil, nil
		}
	}
	if err != nil {
		fmt.Fprintf(r.env.Stderr, "%s: %v\n", r.prog, err)
		return 1, false
	}
	if r.opts.file != "" && r.opts.file != "-" && r.input != nil {
		if who := writableByOthers(r.opts.file); who != "" {
			fmt.Fprintf(r.env.Stderr, "%s: warning: %s can be changed by %s, and so can the IPVS table it loads\n", r.prog, r.opts.file, who)
		}
	}
	return 0, true
}

// readAll reads all of in, in one buffer of the right size when in is a
// file (as when a rules file is redirected to standard input): grown by
// doubling, a big input would be copied a dozen times on the way.
func readAll(in io.Reader) ([]byte, error) {
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			var b bytes.Buffer
			b.Grow(int(fi.Size()) + bytes.MinRead)
			_, err := b.ReadFrom(f)
			return b.Bytes(), err
		}
	}
	return io.ReadAll(in)
}

// writableByOthers says who, besides root and the caller, can change the
// file at p or replace it: its owner, its group, every user, or the same of
// its folder (without the sticky bit, whoever may write to a folder may
// replace the files in it). "" means no one.
func writableByOthers(p string) string {
	euid := uint32(os.Geteuid())
	trusted := func(uid uint32) bool { return uid == 0 || uid == euid }
	check := func(p string) string {
		fi, err := os.Stat(p)
		if err != nil {
			return ""
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return ""
		}
		mode := fi.Mode().Perm()
		switch {
		case !trusted(st.Uid):
			return fmt.Sprintf("its owner (uid %d)", st.Uid)
		case mode&0o002 != 0:
			return "every user"
		case mode&0o020 != 0 && st.Gid != 0:
			return fmt.Sprintf("the users of group %d", st.Gid)
		}
		return ""
	}
	if who := check(p); who != "" {
		return who
	}
	dir := filepath.Dir(p)
	if fi, err := os.Stat(dir); err == nil && fi.Mode()&fs.ModeSticky != 0 {
		return ""
	}
	if who := check(dir); who != "" {
		return who + " (through its folder)"
	}
	return ""
}

// fail reports err, a *rules.Error as a rule: the line, ipvsadm's message as
// ipvsadm prints it, and what became of the table.
func (r *restorer) fail(err error, outcome string) int {
	var rerr *rules.Error
	if !errors.As(err, &rerr) {
		fmt.Fprintf(r.env.Stderr, "%s: %v\n%s: %s\n", r.prog, err, r.prog, outcome)
		return 1
	}
	where := "removing what the input does not have"
	text := rerr.Text
	if text == "-C" {
		where = "clearing the table"
	}
	if rerr.Line > 0 {
		where = fmt.Sprintf("line %d", rerr.Line)
		if r.opts.file != "" && r.opts.file != "-" {
			where += " of " + r.opts.file
		}
		text = r.line(rerr.Line)
	}
	fmt.Fprintf(r.env.Stderr, "%s: %s: %s\n%s\n%s: %s\n", r.prog, where, text, rerr.Message, r.prog, outcome)
	return rerr.Status
}

// line returns line n of the input, counting from 1.
func (r *restorer) line(n int) string {
	s := string(r.input)
	for i := 1; i < n; i++ {
		_, s, _ = strings.Cut(s, "\n")
	}
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimRight(s, " \t\r")
}
