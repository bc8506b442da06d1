package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsgo/ipvsadm/bench/result"
)

// systemMeta describes the machine the driver runs on.
func systemMeta(accel string) result.Meta {
	m := result.Meta{Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), Accel: accel}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if v, err := os.ReadFile("/proc/version"); err == nil {
		m.KernelBuild = strings.TrimSpace(string(v))
	}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		m.MemoryKiB, _ = strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	}
	return m
}

// procField is the value of the first "key: value" line of key in file.
func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
