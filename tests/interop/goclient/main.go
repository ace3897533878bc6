// SPDX-License-Identifier: MIT

// goclient talks to sbxd through Debian's Go varlink library
// (golang-github-varlink-go-dev), an implementation nobody here wrote, and
// checks what the daemon answers. tests/integration/test_varlink_interop.sh
// builds and runs it; each check prints "ok LABEL" or "FAIL LABEL: why" and
// the exit code is 1 when any check failed.
//
//	goclient --varlink unix:SOCK introspect
//	    GetInfo, then every interface's description parsed by the library's
//	    IDL parser (the daemon's .varlink text is valid varlink).
//	goclient --varlink unix:SOCK lifecycle NAME PROFILE
//	    List, Start (sleep 30), List, Stop, List, Remove, and Run with "more"
//	    through org.sbx.Manager, each reply also checked against the types of
//	    the daemon's own description.
//	goclient --varlink unix:SOCK certification-errors
//	    what varlink-go-certification does not try: that the certification
//	    interface refuses wrong values, order and flags (sbxd
//	    --varlink-certification), so its passing run means something.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/varlink/go/varlink"
	"github.com/varlink/go/varlink/idl"
)

const manager = "org.sbx.Manager"

var failed bool

func ok(label string) { fmt.Printf("ok %s\n", label) }

func fail(label string, format string, args ...interface{}) {
	failed = true
	fmt.Printf("FAIL %s: %s\n", label, fmt.Sprintf(format, args...))
}

// check reports err (or a passed check) under label; true when it passed.
func check(label string, err error) bool {
	if err != nil {
		fail(label, "%v", err)
		return false
	}
	ok(label)
	return true
}

// varlinkError is the name and parameters of an error reply.
func varlinkError(err error) (string, map[string]interface{}) {
	params := map[string]interface{}{}
	switch e := err.(type) {
	case *varlink.Error:
		if raw, isRaw := e.Parameters.(*json.RawMessage); isRaw && raw != nil {
			json.Unmarshal(*raw, &params)
		}
		return e.Name, params
	case *varlink.InvalidParameter:
		params["parameter"] = e.Parameter
		return e.Error(), params
	case *varlink.MethodNotFound:
		params["method"] = e.Method
		return e.Error(), params
	case *varlink.InterfaceNotFound:
		params["interface"] = e.Interface
		return e.Error(), params
	case nil:
		return "", nil
	}
	return err.Error(), nil
}

// expectError: the call failed with error name (and these parameters).
func expectError(label string, err error, name string, want map[string]interface{}) {
	got, params := varlinkError(err)
	if got != name {
		fail(label, "wanted error %s, got %q (%v)", name, got, err)
		return
	}
	for k, v := range want {
		if fmt.Sprint(params[k]) != fmt.Sprint(v) {
			fail(label, "%s: %s is %v, wanted %v", name, k, params[k], v)
			return
		}
	}
	ok(label)
}

func connect(ctx context.Context, address string) *varlink.Connection {
	c, err := varlink.NewConnection(ctx, address)
	if err != nil {
		fmt.Printf("FAIL connect: %s: %v\n", address, err)
		os.Exit(1)
	}
	return c
}

// describe fetches and parses an interface's description.
func describe(ctx context.Context, c *varlink.Connection, name string) (*idl.IDL, error) {
	text, err := c.GetInterfaceDescription(ctx, name)
	if err != nil {
		return nil, err
	}
	// The Go parser follows the varlink grammar, whose interface names are
	// lower case; org.sbx.Manager is capitalised the way systemd's
	// interfaces are (io.systemd.Resolve), as the issue names it. Every
	// other line (types, methods, errors) goes through the parser as served.
	lowered := strings.Replace(text, "interface "+name+"\n", "interface "+strings.ToLower(name)+"\n", 1)
	d, err := idl.New(lowered)
	if err != nil {
		return nil, fmt.Errorf("the description does not parse: %v", err)
	}
	if d.Name != strings.ToLower(name) {
		return nil, fmt.Errorf("the description names interface %q", d.Name)
	}
	return d, nil
}

func introspect(ctx context.Context, c *varlink.Connection) {
	var vendor, product, version, url string
	var ifaces []string

	if !check("GetInfo", c.GetInfo(ctx, &vendor, &product, &version, &url, &ifaces)) {
		return
	}
	if product == "" || version == "" {
		fail("GetInfo.product", "product %q version %q", product, version)
	}
	seen := map[string]bool{}
	for _, name := range ifaces {
		seen[name] = true
		_, err := describe(ctx, c, name)
		check("GetInterfaceDescription "+name, err)
	}
	for _, name := range []string{"org.varlink.service", manager} {
		if !seen[name] {
			fail("GetInfo.interfaces", "%s is not among %v", name, ifaces)
		}
	}
	_, err := c.GetInterfaceDescription(ctx, "org.example.Nothing")
	expectError("GetInterfaceDescription.unknown", err, "org.varlink.service.InterfaceNotFound",
		map[string]interface{}{"interface": "org.example.Nothing"})
}

// call sends method with params and returns the reply's parameters, raw.
func call(ctx context.Context, c *varlink.Connection, method string, params interface{}) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.Call(ctx, method, params, &out)
	return out, err
}

type sandbox struct {
	Name    string `json:"name"`
	State   string `json:"state"`
	Profile string `json:"profile"`
}

func listed(ctx context.Context, c *varlink.Connection, d *idl.IDL, name string) (*sandbox, error) {
	raw, err := call(ctx, c, manager+".List", nil)
	if err != nil {
		return nil, err
	}
	if err := conforms(d, "List", raw); err != nil {
		return nil, err
	}
	var r struct {
		Sandboxes []sandbox `json:"sandboxes"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	for i := range r.Sandboxes {
		if r.Sandboxes[i].Name == name {
			return &r.Sandboxes[i], nil
		}
	}
	return nil, nil
}

// sandboxReply: a Start or Stop reply that conforms and names the sandbox.
func sandboxReply(d *idl.IDL, method string, raw json.RawMessage, name string) (*sandbox, error) {
	if err := conforms(d, method, raw); err != nil {
		return nil, err
	}
	var r struct {
		Sandbox sandbox `json:"sandbox"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if r.Sandbox.Name != name {
		return nil, fmt.Errorf("the reply names sandbox %q", r.Sandbox.Name)
	}
	return &r.Sandbox, nil
}

func lifecycle(ctx context.Context, c *varlink.Connection, name, profile string) {
	// the replies are typed by the description; one that does not parse
	// is its own failure, and the calls are still made
	d, err := describe(ctx, c, manager)
	if err != nil {
		fail("lifecycle.description", "%v; replies are not checked against it", err)
		d = nil
	}
	if s, err := listed(ctx, c, d, name); err != nil || s != nil {
		fail("List.before", "err %v, sandbox %+v", err, s)
		return
	}
	ok("List.before")

	start := map[string]interface{}{"name": name, "profile": profile, "command": []string{"sleep", "30"}}
	raw, err := call(ctx, c, manager+".Start", start)
	s, err2 := sandboxReply(d, "Start", raw, name)
	if err != nil || err2 != nil {
		fail("Start", "%v %v", err, err2)
		return
	}
	if s.State != "running" {
		fail("Start", "state %q, wanted running", s.State)
	} else {
		ok("Start")
	}
	_, err = call(ctx, c, manager+".Start", start)
	expectError("Start.name_in_use", err, manager+".NameInUse", map[string]interface{}{"name": name})

	s, err = listed(ctx, c, d, name)
	if err != nil || s == nil || s.State != "running" {
		fail("List.running", "err %v, sandbox %+v", err, s)
	} else {
		ok("List.running")
	}

	raw, err = call(ctx, c, manager+".Stop", map[string]interface{}{"name": name})
	s, err2 = sandboxReply(d, "Stop", raw, name)
	if err != nil || err2 != nil {
		fail("Stop", "%v %v", err, err2)
	} else if s.State != "exited" {
		fail("Stop", "state %q, wanted exited", s.State)
	} else {
		ok("Stop")
	}

	s, err = listed(ctx, c, d, name)
	if err != nil || s == nil || s.State != "exited" {
		fail("List.exited", "err %v, sandbox %+v", err, s)
	} else {
		ok("List.exited")
	}

	_, err = call(ctx, c, manager+".Stop", map[string]interface{}{"name": name + "-none"})
	expectError("Stop.no_such_sandbox", err, manager+".NoSuchSandbox",
		map[string]interface{}{"name": name + "-none"})
	_, err = call(ctx, c, manager+".Remove", map[string]interface{}{"name": name})
	check("Remove", err)
	run(ctx, c, d, profile)
}

// run: Run with "more" streams a first reply (started) and a last one with
// the workload's exit code, each of Run's output type.
func run(ctx context.Context, c *varlink.Connection, d *idl.IDL, profile string) {
	receive, err := c.Send(ctx, manager+".Run", map[string]interface{}{
		"profile": profile, "command": []string{"sh", "-c", "exit 3"}}, varlink.More)
	if err != nil {
		fail("Run", "%v", err)
		return
	}
	type reply struct {
		Started  *bool  `json:"started"`
		ExitCode *int64 `json:"exit_code"`
	}
	var replies []reply
	for len(replies) < 100 {
		var raw json.RawMessage
		flags, err := receive(ctx, &raw)
		if err == nil {
			err = conforms(d, "Run", raw)
		}
		if err != nil {
			fail("Run", "reply %d: %v", len(replies)+1, err)
			return
		}
		var r reply
		json.Unmarshal(raw, &r)
		replies = append(replies, r)
		if flags&varlink.Continues == 0 {
			break
		}
	}
	first, last := replies[0], replies[len(replies)-1]
	switch {
	case len(replies) < 2:
		fail("Run", "%d reply, wanted a first with started and a last with exit_code", len(replies))
	case first.Started == nil || !*first.Started:
		fail("Run", "the first reply does not say started")
	case last.ExitCode == nil || *last.ExitCode != 3:
		fail("Run", "the last reply's exit_code is %v, wanted 3", last.ExitCode)
	default:
		ok("Run.more")
	}
}

func main() {
	address := flag.String("varlink", "", "the daemon's address, unix:PATH")
	flag.Parse()
	args := flag.Args()
	if *address == "" || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: goclient --varlink unix:PATH introspect | lifecycle NAME PROFILE | certification-errors")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := connect(ctx, *address)
	defer c.Close()

	switch {
	case args[0] == "introspect":
		introspect(ctx, c)
	case args[0] == "lifecycle" && len(args) == 3:
		lifecycle(ctx, c, args[1], args[2])
	case args[0] == "certification-errors":
		certificationErrors(ctx, c, *address)
	default:
		fmt.Fprintf(os.Stderr, "goclient: unknown check %q\n", args[0])
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}
