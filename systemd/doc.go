// Package systemd holds the boot service of the commands: ipvsadm.service
// (the rules: an atomic restore at start, --sync at reload, an atomic save
// and a clear at stop), its Debian drop-in debian.conf, and
// ipvsadm-sync.service with its script ipvsadm-sync (the sync daemons of
// Debian's /etc/default/ipvsadm). `make install` installs them with
// @SBINDIR@ and @LIBEXECDIR@ filled in; Files embeds them so that the tests
// run what is installed.
package systemd

import "embed"

// Files are the unit files and the script, as in this folder.
//
//go:embed ipvsadm.service ipvsadm-sync.service ipvsadm-sync debian.conf
var Files embed.FS
