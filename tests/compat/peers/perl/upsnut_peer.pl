#!/usr/bin/perl
# Drive UPS::Nut (Debian libups-nut-perl) against a upsd and report what it saw.
#
# usage: perl upsnut_peer.pl HOST PORT
#
# Prints one JSON object per line: {"step": NAME, "ok": RESULT} or {"step": NAME, "err": TEXT}.
# Judging is left to the Rust test (tests/compat/tests/real_scripted.rs), which owns the fixture.
use strict;
use warnings;
use JSON::PP;
use UPS::Nut;

my ($host, $port) = @ARGV;
die "usage: $0 HOST PORT\n" unless $host && $port;
$| = 1;
my $json = JSON::PP->new->canonical;

sub emit { print $json->encode({@_}), "\n"; }

# Run one UPS::Nut call; undef means failure and the reason is in ->Error.
sub step {
    my ($name, $ups, $code) = @_;
    my $v = eval { $code->() };
    if ($@) { emit(step => $name, err => "died: $@"); return; }
    if (defined $v) { emit(step => $name, ok => $v); }
    else { emit(step => $name, err => $ups->Error); }
}

sub connect_ups {
    my ($name, %extra) = @_;
    # TIMEOUT bounds every select() inside UPS::Nut so a silent server cannot hang the test.
    return UPS::Nut->new(NAME => $name, HOST => $host, PORT => $port, TIMEOUT => 5, %extra);
}

# Anonymous session: reads only. new() itself sends LIST VAR and fails on an unknown UPS.
my $anon = connect_ups('dummy');
unless ($anon) { emit(step => 'connect_anon', err => 'UPS::Nut->new failed'); exit 2; }
step('status', $anon, sub { $anon->Status() });
step('batt_percent', $anon, sub { $anon->BattPercent() });
step('line_voltage', $anon, sub { $anon->LineVoltage() });
step('list_ups', $anon, sub { $anon->ListUPS() });
step('list_var', $anon, sub { $anon->ListVar() });
step('list_rw', $anon, sub { $anon->ListRW() });
step('list_cmd', $anon, sub { $anon->ListCmd() });
step('list_enum', $anon, sub { $anon->ListEnum('ups.status') });
step('get_type', $anon, sub { $anon->GetType('ups.id') });
step('get_desc', $anon, sub { $anon->GetDesc('ups.status') });
step('get_cmddesc', $anon, sub { $anon->GetCmdDesc('load.off') });
step('get_unknown_var', $anon, sub { $anon->GetVar('no.such.var') });
step('instcmd_anon', $anon, sub { $anon->InstCmd('load.off') });
$anon->Logout();

my $unknown = connect_ups('nosuch');
emit(step => 'connect_unknown_ups', ok => ($unknown ? 'connected' : 'refused'));

# Authenticated session with LOGIN (the upsmon role) and the MASTER check it offers.
my $admin = connect_ups('UPS1', USERNAME => 'admin', PASSWORD => 'adminpass', LOGIN => 1);
unless ($admin) { emit(step => 'connect_admin', err => 'UPS::Nut->new failed'); exit 2; }
step('master', $admin, sub { $admin->Master() });
step('set_charge', $admin, sub { $admin->Set('battery.charge', '42') });
step('get_after_set', $admin, sub {
    # dummy-ups applies a SET asynchronously; poll briefly (bounded) for the new value.
    my $v;
    for (1 .. 50) { $v = $admin->GetVar('battery.charge'); last if defined $v && $v eq '42'; select(undef, undef, undef, 0.1); }
    $v;
});
step('instcmd_admin', $admin, sub { $admin->InstCmd('load.off') });
step('fsd', $admin, sub { $admin->FSD() });
step('status_after_fsd', $admin, sub { $admin->Status() });
$admin->Logout();
emit(step => 'done', ok => JSON::PP::true);
