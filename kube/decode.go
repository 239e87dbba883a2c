package kube

// Decode reads kubectl output into an Inventory: `kubectl get
// pods,services,endpointslices,nodes -A -o json` or `-o yaml` (a v1 List
// of any of these kinds, or the typed lists PodList, ServiceList,
// EndpointSliceList, NodeList), single objects, multi-document YAML
// (`---` separated) and JSON streams (objects one after another). Objects
// of other kinds are skipped and counted in Inventory.Skipped. Name is the
// file name used in errors; a malformed document gives a
// *netfilter.ParseError with File, Line and Col (1-based) where the
// decoder can tell them.
func Decode(name string, data []byte) (*Inventory, error) {
	return decode(name, data)
}

// Add merges other into inv: objects are identified by kind, namespace and
// name, and other's copy replaces inv's (later wins); order is first
// appearance. Skipped counts add up.
func (inv *Inventory) Add(other *Inventory) {
	inv.add(other)
}
