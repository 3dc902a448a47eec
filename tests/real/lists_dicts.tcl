# List-, dict- and string-heavy deterministic Tcl workload.
set l {}
for {set i 0} {$i < 100000} {incr i} {
    lappend l [expr {($i * 7919) % 100003}]
}
set s [lsort -integer $l]
puts "len=[llength $s] min=[lindex $s 0] max=[lindex $s end]"

set d [dict create]
for {set i 0} {$i < 60000} {incr i} {
    dict lappend d [expr {$i % 97}] "v$i"
}
set total 0
dict for {k v} $d { incr total [llength $v] }
puts "dict keys=[dict size $d] values=$total first=[lindex [dict get $d 5] 0]"

set str ""
for {set i 0} {$i < 20000} {incr i} {
    append str [format "%05d:%s;" $i [string repeat x [expr {$i % 9}]]]
}
set parts [split $str ";"]
set m [regexp -all {(\d+):x{8}} $str]
puts "strlen=[string length $str] parts=[llength $parts] matches=$m"
set mapped [string map {x Y 0 o} $str]
puts "mapped_first=[string range $mapped 0 40]"
set counts [dict create]
foreach p $parts {
    if {$p eq ""} continue
    dict incr counts [string length $p]
}
puts "by_length=[lsort -integer -stride 2 -index 0 $counts]"
set big [lrepeat 1000 [lrepeat 50 abc]]
puts "big=[llength $big] inner=[llength [lindex $big 999]] joined=[string length [join [join $big] {}]]"
