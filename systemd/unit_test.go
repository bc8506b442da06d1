package systemd_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/systemd"
)

// This file runs the units as systemd would run them, closely enough for
// these units: Environment= and EnvironmentFile= (files override, "-"
// makes one optional), drop-ins after the unit, ${VAR} and $VAR in
// command lines, quoting, ExecCondition= (status 1-254 skips the start),
// and commands run in order until one fails.

// A unit is a service unit with its drop-ins, ready to run.
type unit struct {
	env      []string    // Environment= assignments, in order
	envFiles []string    // EnvironmentFile= values, in order
	exec     [][2]string // (key, command line) of every Exec*= line
	// wrap, if set, runs every command in it: ip netns exec NAME.
	wrap []string
}

// install writes the files of package systemd to dir as make install
// does, with the commands in sbin and the script in dir.
func install(t *testing.T, dir, sbin string) {
	t.Helper()
	entries, err := systemd.Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := systemd.Files.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("@SBINDIR@"), []byte(sbin))
		b = bytes.ReplaceAll(b, []byte("@LIBEXECDIR@"), []byte(dir))
		mode := os.FileMode(0o644)
		if e.Name() == "ipvsadm-sync" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// loadUnit reads the unit file path and its drop-ins.
func loadUnit(t *testing.T, path string, dropIns ...string) *unit {
	t.Helper()
	u := &unit{}
	for _, p := range append([]string{path}, dropIns...) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
				continue
			}
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not an assignment: %q", p, line)
			}
			switch {
			case key == "Environment":
				words, err := splitCommand(value)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				u.env = append(u.env, words...)
			case key == "EnvironmentFile":
				u.envFiles = append(u.envFiles, value)
			case strings.HasPrefix(key, "Exec"):
				u.exec = append(u.exec, [2]string{key, value})
			}
		}
		f.Close()
	}
	return u
}

// environment is the unit's environment: Environment=, then the files.
func (u *unit) environment() (map[string]string, error) {
	env := make(map[string]string)
	for _, a := range u.env {
		k, v, _ := strings.Cut(a, "=")
		env[k] = v
	}
	for _, name := range u.envFiles {
		optional := strings.HasPrefix(name, "-")
		b, err := os.ReadFile(strings.TrimPrefix(name, "-"))
		if err != nil {
			if optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			env[strings.TrimSpace(k)] = v
		}
	}
	return env, nil
}

// splitCommand splits a command line into words as systemd does for
// these units: blanks separate words, '...' and "..." quote.
func splitCommand(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, errors.New("unterminated quote in " + s)
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// expand substitutes ${VAR} anywhere in a word and a word that is $VAR
// (split at blanks), as systemd does on command lines.
func expand(words []string, env map[string]string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, "$") && !strings.HasPrefix(w, "${") && !strings.HasPrefix(w, "$$") {
			out = append(out, strings.Fields(env[w[1:]])...)
			continue
		}
		for {
			start := strings.Index(w, "${")
			if start < 0 {
				break
			}
			end := strings.IndexByte(w[start:], '}')
			if end < 0 {
				break
			}
			w = w[:start] + env[w[start+2:start+end]] + w[start+end+1:]
		}
		out = append(out, strings.ReplaceAll(w, "$$", "$"))
	}
	return out
}

// An outcome is how an action of a unit ended.
type outcome struct {
	Result string // "done", "skipped" (a condition failed), "failed"
	Output string // every command's standard output and error
}

// run runs action ("start", "reload" or "stop") of the unit.
func (u *unit) run(t *testing.T, action string) outcome {
	t.Helper()
	keys := map[string][]string{
		"start":  {"ExecCondition", "ExecStart"},
		"reload": {"ExecReload"},
		"stop":   {"ExecStop"},
	}[action]
	env, err := u.environment()
	if err != nil {
		return outcome{"failed", err.Error()}
	}
	environ := []string{"PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	var out bytes.Buffer
	for _, key := range keys {
		for _, e := range u.exec {
			if e[0] != key {
				continue
			}
			words, err := splitCommand(e[1])
			if err != nil {
				t.Fatal(err)
			}
			words = append(append([]string(nil), u.wrap...), expand(words, env)...)
			cmd := exec.Command(words[0], words[1:]...)
			cmd.Env = environ
			cmd.Stdout, cmd.Stderr = &out, &out
			err = cmd.Run()
			var exit *exec.ExitError
			switch {
			case err == nil:
			case key == "ExecCondition" && errors.As(err, &exit) && exit.ExitCode() >= 1 && exit.ExitCode() <= 254:
				return outcome{"skipped", out.String()}
			default:
				t.Logf("%s=%s: %v", key, e[1], err)
				return outcome{"failed", out.String()}
			}
		}
	}
	return outcome{"done", out.String()}
}

// TestUnitsAsInstalled checks what the emulation reads from the units, so
// that the tests in the VM run what systemd would.
func TestUnitsAsInstalled(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "/usr/sbin")
	u := loadUnit(t, filepath.Join(dir, "ipvsadm.service"), filepath.Join(dir, "debian.conf"))
	want := [][2]string{
		{"ExecCondition", `/bin/sh -c 'case "$AUTO" in false|no) exit 1;; esac'`},
		{"ExecStart", "/usr/sbin/ipvsadm-restore --atomic --allow-missing ${IPVSADM_RULES}"},
		{"ExecReload", "/usr/sbin/ipvsadm-restore --sync --allow-missing ${IPVSADM_RULES}"},
		{"ExecStop", `/bin/sh -c 'if [ "$IPVS_SAVE_ON_STOP" != no ]; then exec /usr/sbin/ipvsadm-save -n --file "$IPVSADM_RULES"; fi'`},
		{"ExecStop", "/usr/sbin/ipvsadm -C"},
	}
	if diff := cmp.Diff(want, u.exec); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	env, err := u.environment()
	if err != nil {
		t.Fatal(err)
	}
	if env["IPVSADM_RULES"] != "/etc/ipvsadm.rules" || env["IPVS_SAVE_ON_STOP"] != "no" {
		t.Errorf("with debian.conf: IPVSADM_RULES=%q IPVS_SAVE_ON_STOP=%q", env["IPVSADM_RULES"], env["IPVS_SAVE_ON_STOP"])
	}
	words, err := splitCommand(want[3][1])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/bin/sh", "-c", `if [ "$IPVS_SAVE_ON_STOP" != no ]; then exec /usr/sbin/ipvsadm-save -n --file "$IPVSADM_RULES"; fi`}, words); diff != "" {
		t.Errorf("splitCommand (-want +got):\n%s", diff)
	}
}

// TestUnitsVerify has systemd-analyze check the units, where it is
// installed.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze")
	}
	dir := t.TempDir()
	sbin := filepath.Join(dir, "sbin")
	if err := os.Mkdir(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ipvsadm", "ipvsadm-save", "ipvsadm-restore"} {
		if err := os.WriteFile(filepath.Join(sbin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	install(t, dir, sbin)
	for _, name := range []string{"ipvsadm.service", "ipvsadm-sync.service"} {
		out, err := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, name)).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}
