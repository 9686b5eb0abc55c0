# A non-Python client for aioxmlrpc.server: Tcl's xmlrpc package (Debian's tcl-xmlrpc
# 0.3). Usage: tclsh tcl_client.tcl http://HOST:PORT PATH
#
# Makes a fixed list of calls with xmlrpc::call and prints one JSON line per call:
#   {"call": NAME, "result": TEXT}   what xmlrpc::call returned, as Tcl text
#   {"call": NAME, "error": TEXT}    when it raised, with what the package said
# The package has no types on this side: a result is a two-element list {rest value},
# rest being what it left unparsed; a struct (a fault's too: it does not tell them
# apart) is a list of {name value} pairs; text is the XML text as it came, entities
# included. So a result prints as that Tcl text. The package writes values as they are
# given, unescaped, in the channel's encoding: the calls escape their markup and send
# UTF-8 themselves, as its users have to.
package require xmlrpc 0.3

set url [lindex $argv 0]
set path [lindex $argv 1]
after 60000 { exit 3 }  ;# xmlrpc::call has no timeout of its own

# The package writes its complaints to stderr just before it raises: keep them for the
# call's "error" line instead.
set said {}
proc xmlrpc::warn {msg} { lappend ::said $msg }

proc json {text} {
    set map [list "\\" "\\\\" "\"" "\\\"" "\n" "\\n" "\r" "\\r" "\t" "\\t"]
    for {set code 0} {$code < 32} {incr code} {
        set char [format %c $code]
        if {$char ni {"\n" "\r" "\t"}} { lappend map $char [format "\\u%04x" $code] }
    }
    return "\"[string map $map $text]\""
}

proc show {name method args} {
    set ::said {}
    if {[catch {xmlrpc::call $::url $::path $method $args} result]} {
        puts "{\"call\": [json $name], \"error\": [json [join $::said {; }]]}"
    } else {
        puts "{\"call\": [json $name], \"result\": [json $result]}"
    }
    flush stdout
}

proc escape {text} { return [string map {& &amp; < &lt; > &gt;} $text] }
set tricky [encoding convertto utf-8 [escape "h\u00e9llo & <tags> ]]> \u2603"]]

show ping ping
show int show_type {int 42}
show double show_type {double 2.5}
show string show_type [list string $tricky]
show unescaped show_type {string "a & b"}
show not_utf8 show_type [list string "h\u00e9llo"]
show boolean show_type {boolean 1}
show array show_type {array {{int 1} {string two} {double 3.5}}}
set pair(a) {int 1}
set pair(b) {string x}
show struct show_type {struct pair}
show base64 send_back_binary [list base64 [binary encode base64 "\x00\x01bin"]]
show datetime show_type {dateTime.iso8601 20240229T12:34:56}
show now now
show fault raises_exception {string "A message"}
show unknown no.such.method
show bad_params ping {int 1} {int 2}
show methodHelp system.methodHelp {string ping}
set first(methodName) {string ping}
set first(params) {array {}}
set second(methodName) {string show_type}
set second(params) {array {{string x}}}
set third(methodName) {string raises_exception}
set third(params) {array {{string "Next to last call stops execution"}}}
show multicall system.multicall {array {{struct first} {struct second} {struct third}}}
show ping_again ping
