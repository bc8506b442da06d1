// Package atomicfile replaces a file so that a crash, a kill -9 or a full
// disk at any moment leaves either the old file whole or the new one whole,
// never a truncated mixture: what ipvsadm-save > rules cannot promise, and
// what a rules file that is read back at boot needs.
//
// WriteFile writes into a fresh temporary file in the same directory, flushes
// it to the disk, renames it over the old name and then flushes the directory:
//
//	err := atomicfile.WriteFile("/etc/ipvsadm.rules", 0o600, func(w io.Writer) error {
//		return save(w)
//	})
//
// The temporary file is created as a stranger in a world-writable directory
// could not exploit it: with an unpredictable name, exclusively, without
// following symbolic links. A replaced file keeps its permission bits and,
// when the caller is root, its owner and group.
package atomicfile
