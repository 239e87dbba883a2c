package kube

import (
	"strconv"

	"k8s.io/apimachinery/pkg/types"
)

func typesUID(s string) types.UID { return types.UID(s) }

func itoa(n int) string { return strconv.Itoa(n) }
