package logs

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FileInputs turns command-line paths into inputs: "-" is stdin, a
// directory is every regular file under it, a file is itself (gzip or
// not). Within a directory, rotated files come oldest first, the way
// logrotate numbers them: x.3.gz, x.2.gz, x.1, x.
func FileInputs(paths []string, stdin io.Reader) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		if p == "-" {
			out = append(out, Input{Name: "-", Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(stdin), nil
			}})
			continue
		}
		ins, err := pathInputs(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ins...)
	}
	return out, nil
}

func pathInputs(p string) ([]Input, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read log path: %w", err)
	}
	if !fi.IsDir() {
		return []Input{fileInput(p, fi)}, nil
	}
	var out []Input
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fileInput(path, info))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read log directory: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Input) int { return compareRotated(a.Name, b.Name) })
	return out, nil
}

func fileInput(path string, fi fs.FileInfo) Input {
	return Input{Name: path, Path: path, ModTime: fi.ModTime(), Open: func(context.Context) (io.ReadCloser, error) {
		return os.Open(path)
	}}
}

// compareRotated orders "x.2.gz" before "x.1" before "x".
func compareRotated(a, b string) int {
	sa, na := rotation(a)
	sb, nb := rotation(b)
	return cmp.Or(cmp.Compare(sa, sb), cmp.Compare(nb, na))
}

// rotation splits "x.log.2.gz" into "x.log" and 2; "x.log" is rotation 0.
func rotation(name string) (string, int) {
	stem := strings.TrimSuffix(name, ".gz")
	i := strings.LastIndexByte(stem, '.')
	if i < 0 {
		return stem, 0
	}
	n, err := strconv.Atoi(stem[i+1:])
	if err != nil || n < 0 {
		return stem, 0
	}
	return stem[:i], n
}
