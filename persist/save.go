package persist

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/internal/atomicfile"
)

// SaveMain runs ipvsadm-save in env and returns its exit status. With
// --file FILE (or --file=FILE) the table replaces FILE atomically;
// otherwise it is ipvsadm 1.31's wrapper, printing the table.
func SaveMain(env Env) int {
	file, hasFile := "", false
	var classic []string
	args := env.Args[1:]
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--file":
			if i+1 == len(args) {
				fmt.Fprintf(env.Stderr, "%s: --file needs a FILE\n", path.Base(env.Args[0]))
				return 1
			}
			i++
			file, hasFile = args[i], true
		case strings.HasPrefix(a, "--file="):
			file, hasFile = strings.TrimPrefix(a, "--file="), true
		default:
			classic = append(classic, a)
		}
	}
	if !hasFile {
		return compat.SaveMain(env.Env)
	}
	prog := path.Base(env.Args[0])
	if file == "" {
		fmt.Fprintf(env.Stderr, "%s: --file needs a FILE\n", prog)
		return 1
	}
	// As ipvsadm-restore does: IPVS first, for ipvsadm's messages to a
	// user who may not read it, then the lock.
	client, status := compat.Open(env.Env)
	if client == nil {
		return status
	}
	client.Close()
	lock, err := env.lock()
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", prog, err)
		return 1
	}
	defer lock.Unlock()
	// Under the lock no other run is writing FILE: what a run killed
	// before it could clean up left is removed.
	atomicfile.RemoveStale(file)

	// The table is read whole before the file is touched: a failed read
	// leaves the file as it was.
	var table bytes.Buffer
	save := env.Env
	save.Args = append([]string{env.Args[0]}, classic...)
	save.Stdout = &table
	if status := compat.SaveMain(save); status != 0 {
		fmt.Fprintf(env.Stderr, "%s: %s is unchanged\n", prog, file)
		return status
	}
	err = atomicfile.WriteFile(file, 0o600, func(w io.Writer) error {
		_, err := w.Write(table.Bytes())
		return err
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n%s: %s is unchanged\n", prog, err, prog, file)
		return 1
	}
	return 0
}
