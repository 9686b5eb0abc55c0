# An XML-RPC server on Tcl's xmlrpc package (Debian's tcl-xmlrpc 0.3), for
# tests/thirdparty/test_tcl_xmlrpc.py. Usage: tclsh tcl_server.tcl
#
# Listens on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves
# until its stdin closes, or for ten minutes at most. The package's xmlrpc::serve binds
# every address, so the socket is opened here, on 127.0.0.1, with the handler
# xmlrpc::serve gives it (xmlrpc::serveOnce): the rest is the package's. Its methods are
# global procs; they receive the values the package unmarshalled (untyped Tcl values: a
# struct is a list of {name value} pairs, text is the XML text as it came, entities and
# all) and return "typed Tcl" values, {type value}, which the package writes as they are:
# no escaping. A struct is returned by the name of a global array. Keep the values in
# step with the test.
package require xmlrpc 0.3

# The package's bgerror reads this global, which only its client sets: without it, a
# request the package fails to parse ends in a second error about the variable, not in
# the package's own message on stderr.
set xmlcall 0

proc echo {value} { return [list string $value] }
proc retype {type value} { return [list $type $value] }
proc show {args} { return [list string $args] }
proc add {a b} { return [list int [expr {$a + $b}]] }
proc big {size} {
    set text [string repeat "abc " [expr {$size / 4 + 1}]]
    return [list string [string range $text 0 [expr {$size - 1}]]]
}
proc fail {} { error "Too many parameters." }
proc markup {} { return [list string "a & b < c"] }
proc text {} { return [list string "h\u00e9llo"] }

proc typed {} {
    global typed nested no_members
    array unset typed
    array set no_members {}
    array set nested {b {array {}}}
    array set typed [list \
        int {int 42} \
        i4 {i4 -7} \
        beyond_32_bits {int 1099511627776} \
        double {double 2.5} \
        huge {double 1e100} \
        true {boolean 1} \
        false {boolean 0} \
        string {string "plain text"} \
        empty {string ""} \
        when {dateTime.iso8601 20240229T12:34:56} \
        blob [list base64 [binary encode base64 "\x00\x01b\xfe\xff"]] \
        list {array {{int 1} {string two} {array {{int 3} {array {}}}}}} \
        nested {struct nested} \
        empty_struct {struct no_members}]
    return {struct typed}
}

fileevent stdin readable {
    if {[gets stdin line] < 0 && [eof stdin]} { exit 0 }
}
after 600000 { exit 0 }
set listener [socket -server xmlrpc::serveOnce -myaddr 127.0.0.1 0]
puts "PORT [lindex [fconfigure $listener -sockname] 2]"
flush stdout
vwait forever
