# Hash- and regex-heavy deterministic Perl workload.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my %h;
for my $i (0 .. 199_999) {
    my $k = sprintf("key%06d", ($i * 7919) % 200_003);
    $h{$k} .= chr(97 + $i % 26);
}
my @keys = sort keys %h;
printf "keys=%d first=%s last=%s\n", scalar @keys, $keys[0], $keys[-1];

my $text = join(" ", map { "token$_" . ("z" x ($_ % 17)) } 0 .. 99_999);
my %count;
while ($text =~ /token(\d+)(z{5,9})\b/g) {
    $count{length $2}++;
}
print join(",", map { "$_=$count{$_}" } sort { $a <=> $b } keys %count), "\n";

(my $copy = $text) =~ s/token(\d+)/T<$1>/g;
$copy =~ tr/z/Z/;
printf "copy_len=%d md5=%s\n", length $copy, md5_hex($copy);

my @words = split /\s+/, $text;
my %by_len;
push @{ $by_len{ length $_ } }, $_ for @words;
for my $len ((sort { $a <=> $b } keys %by_len)[0 .. 4]) {
    my @w = sort @{ $by_len{$len} };
    printf "len %d: %d words, first %s\n", $len, scalar @w, $w[0];
}
my @nested = map { { id => $_, list => [ (1) x ($_ % 50) ] } } 0 .. 49_999;
my $sum = 0;
$sum += scalar @{ $_->{list} } for @nested;
print "nested_sum=$sum\n";
print "md5_all=", md5_hex(join "", map { $h{$_} } @keys), "\n";
