package reallab

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
)

// BusyboxBin is the statically linked busybox (Debian busybox-static)
// that makes the test image.
const BusyboxBin = "/bin/busybox"

// IndexPage is what the image's httpd serves at "/".
const IndexPage = "exposure real lab\n"

// BusyboxTar writes, under dir, a root filesystem tar for "docker import"
// and "podman import": /bin/busybox, /bin/sh, and /www/index.html holding
// IndexPage. It returns the tar's path. No registry is involved.
func BusyboxTar(dir string) (string, error) {
	bb, err := os.ReadFile(BusyboxBin)
	if err != nil {
		return "", fmt.Errorf("read busybox: %w", err)
	}
	path := filepath.Join(dir, "busybox-rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("create rootfs tar: %w", err)
	}
	defer f.Close()
	w := tar.NewWriter(f)
	entries := []struct {
		hdr  tar.Header
		data []byte
	}{
		{tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, bb},
		{tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil},
		{tar.Header{Name: "www/", Typeflag: tar.TypeDir, Mode: 0o755}, nil},
		{tar.Header{Name: "www/index.html", Typeflag: tar.TypeReg, Mode: 0o644}, []byte(IndexPage)},
		{tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, nil},
	}
	for _, e := range entries {
		e.hdr.Size = int64(len(e.data))
		if err := w.WriteHeader(&e.hdr); err != nil {
			return "", fmt.Errorf("write rootfs tar: %w", err)
		}
		if _, err := w.Write(e.data); err != nil {
			return "", fmt.Errorf("write rootfs tar: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("write rootfs tar: %w", err)
	}
	return path, f.Close()
}
