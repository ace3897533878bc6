// SPDX-License-Identifier: MIT

// varlink-go-certification only walks the happy path and prints what it
// got: a server that checked nothing would pass it. These checks make the
// certification interface of sbxd --varlink-certification prove that it
// checks: wrong values, order, client ids and flags are refused, a failure
// in the oneway Test11 still spoils End, and the table of runs is bounded.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/varlink/go/varlink"
)

const cert = "org.varlink.certification"

// certMaxClients is CERT_MAX_CLIENTS of user/daemon/certification.c.
const certMaxClients = 16

func certStart(ctx context.Context, c *varlink.Connection) (string, error) {
	var r struct {
		ClientID string `json:"client_id"`
	}
	if err := c.Call(ctx, cert+".Start", nil, &r); err != nil {
		return "", err
	}
	if r.ClientID == "" {
		return "", fmt.Errorf("Start returned no client_id")
	}
	return r.ClientID, nil
}

// withID: a reply's parameters, as the next call's, with client_id added.
func withID(raw json.RawMessage, id string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	json.Unmarshal(raw, &m)
	m["client_id"], _ = json.Marshal(id)
	return m
}

func testName(n int) string { return fmt.Sprintf("%s.Test%02d", cert, n) }

// walk calls Test01 ... Test<upto>, each with what the one before returned.
func walk(ctx context.Context, c *varlink.Connection, id string, upto int) (json.RawMessage, error) {
	prev := json.RawMessage(`{}`)
	for n := 1; n <= upto; n++ {
		out, err := call(ctx, c, testName(n), withID(prev, id))
		if err != nil {
			return nil, fmt.Errorf("Test%02d: %v", n, err)
		}
		prev = out
	}
	return prev, nil
}

// stream calls Test10 with "more" and collects the replies.
func stream(ctx context.Context, c *varlink.Connection, id string, t9 json.RawMessage) ([]string, error) {
	receive, err := c.Send(ctx, testName(10), withID(t9, id), varlink.More)
	if err != nil {
		return nil, err
	}
	var all []string
	for len(all) <= 100 {
		var r struct {
			String string `json:"string"`
		}
		flags, err := receive(ctx, &r)
		if err != nil {
			return nil, err
		}
		all = append(all, r.String)
		if flags&varlink.Continues == 0 {
			return all, nil
		}
	}
	return nil, fmt.Errorf("Test10 did not end its stream")
}

func certEnd(ctx context.Context, c *varlink.Connection, id string) (bool, error) {
	var r struct {
		AllOK *bool `json:"all_ok"`
	}
	err := c.Call(ctx, cert+".End", map[string]string{"client_id": id}, &r)
	if err == nil && r.AllOK == nil {
		err = fmt.Errorf("End replied without all_ok")
	}
	if err != nil {
		return false, err
	}
	return *r.AllOK, nil
}

// upToTest11: a fresh run walked through Test10; returns its id and the replies.
func upToTest11(ctx context.Context, c *varlink.Connection) (string, []string, error) {
	id, err := certStart(ctx, c)
	if err != nil {
		return "", nil, err
	}
	t9, err := walk(ctx, c, id, 9)
	if err != nil {
		return "", nil, err
	}
	replies, err := stream(ctx, c, id, t9)
	return id, replies, err
}

func certIdentity(ctx context.Context, c *varlink.Connection) {
	_, err := call(ctx, c, testName(1), map[string]string{"client_id": "not-a-client"})
	expectError("cert.unknown_client_id", err, cert+".ClientIdError", nil)
	_, err = call(ctx, c, testName(1), map[string]string{})
	expectError("cert.missing_client_id", err, "org.varlink.service.InvalidParameter",
		map[string]interface{}{"parameter": "client_id"})
	_, err = call(ctx, c, cert+".Test12", map[string]string{})
	expectError("cert.method_not_found", err, "org.varlink.service.MethodNotFound",
		map[string]interface{}{"method": cert + ".Test12"})
	_, err = call(ctx, c, "org.example.Nothing.Foo", nil)
	expectError("cert.interface_not_found", err, "org.varlink.service.InterfaceNotFound",
		map[string]interface{}{"interface": "org.example.Nothing"})
}

func certValues(ctx context.Context, c *varlink.Connection) {
	id, err := certStart(ctx, c)
	if !check("cert.Start", err) {
		return
	}
	_, err = call(ctx, c, testName(2), map[string]interface{}{"client_id": id, "bool": true})
	expectError("cert.out_of_order", err, cert+".CertificationError", map[string]interface{}{
		"wants": map[string]interface{}{"method": "Test01"},
		"got":   map[string]interface{}{"method": "Test02"}})

	id, err = certStart(ctx, c)
	if err == nil {
		_, err = walk(ctx, c, id, 1)
	}
	if !check("cert.Test01", err) {
		return
	}
	_, err = call(ctx, c, testName(2), map[string]interface{}{"client_id": id, "bool": false})
	expectError("cert.wrong_value", err, cert+".CertificationError", map[string]interface{}{
		"wants": map[string]interface{}{"bool": true},
		"got":   map[string]interface{}{"bool": false}})
	allOK, err := certEnd(ctx, c, id)
	if err == nil && allOK {
		err = fmt.Errorf("End says all_ok after a CertificationError")
	}
	check("cert.end_after_failure", err)
	_, err = call(ctx, c, testName(1), map[string]string{"client_id": id})
	expectError("cert.end_forgets_client", err, cert+".ClientIdError", nil)
}

func certFlags(ctx context.Context, c *varlink.Connection) {
	id, err := certStart(ctx, c)
	var t9 json.RawMessage
	if err == nil {
		t9, err = walk(ctx, c, id, 9)
	}
	if !check("cert.walk_to_Test09", err) {
		return
	}
	_, err = call(ctx, c, testName(10), withID(t9, id))
	expectError("cert.Test10_needs_more", err, cert+".CertificationError", map[string]interface{}{
		"wants": map[string]interface{}{"more": true}})

	id, replies, err := upToTest11(ctx, c)
	if err == nil && len(replies) != 10 {
		err = fmt.Errorf("Test10 sent %d replies, wanted 10", len(replies))
	}
	if !check("cert.Test10_streams_ten", err) {
		return
	}
	_, err = call(ctx, c, testName(11), map[string]interface{}{"client_id": id, "last_more_replies": replies})
	expectError("cert.Test11_needs_oneway", err, cert+".CertificationError", map[string]interface{}{
		"wants": map[string]interface{}{"oneway": true}})

	// A oneway call gets no reply, so a wrong value there shows in End only.
	id, replies, err = upToTest11(ctx, c)
	if err == nil {
		_, err = c.Send(ctx, testName(11), map[string]interface{}{
			"client_id": id, "last_more_replies": replies[:9]}, varlink.Oneway)
	}
	var allOK bool
	if err == nil {
		allOK, err = certEnd(ctx, c, id)
	}
	if err == nil && allOK {
		err = fmt.Errorf("End says all_ok after a wrong oneway Test11")
	}
	check("cert.oneway_failure_spoils_end", err)
}

// A Start past the table's size drops the oldest run.
func certBounded(ctx context.Context, c *varlink.Connection) {
	var ids []string
	for i := 0; i <= certMaxClients; i++ {
		id, err := certStart(ctx, c)
		if err != nil {
			fail("cert.clients_bounded", "Start %d: %v", i, err)
			return
		}
		ids = append(ids, id)
	}
	_, err := call(ctx, c, testName(1), map[string]string{"client_id": ids[0]})
	expectError("cert.clients_bounded.oldest_dropped", err, cert+".ClientIdError", nil)
	_, err = walk(ctx, c, ids[len(ids)-1], 1)
	check("cert.clients_bounded.newest_kept", err)
}

func certificationErrors(ctx context.Context, c *varlink.Connection, address string) {
	certIdentity(ctx, c)
	certValues(ctx, c)
	certFlags(ctx, c)
	certBounded(ctx, c)
}
