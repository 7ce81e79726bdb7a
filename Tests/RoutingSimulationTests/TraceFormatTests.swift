import RoutingSimulation
import SwitchboardCore
import Testing

/// The trace files as a converted log writes them, and every refusal with its file, line and column.
@Suite("Trace format: CSV, times, types and shifts; bad input named by file, line and column")
struct TraceFormatTests {
    private func refusal(arrivals: String, types: String? = nil, shifts: String? = nil) -> String? {
        do {
            _ = try TraceRun.scenario(arrivals: TraceRun.table(arrivals, "arrivals.csv"), types: types.map { try TraceRun.table($0, "types.csv") },
                                      shifts: shifts.map { try TraceRun.table($0, "shifts.csv") })
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func spreadsheetCSVIsRead() throws {
        // A byte order mark, CRLF, a header in another case and order, an extra column, quotes.
        let table = try CSVTable(text: "\u{FEFF}Type,Arrival,Agent,Handle_Seconds\r\n\"billing, es\",5,\"Ana \"\"A\"\"\",60\r\n\r\n# note\r\ntech,7,,30", file: "a.csv")
        #expect(table.rows.count == 2)
        #expect(table.value("type", in: table.rows[0]) == "billing, es")
        #expect(table.value("agent", in: table.rows[0]) == #"Ana "A""#)
        #expect(table.value("handle_seconds", in: table.rows[1]) == "30")
        #expect(table.rows[1].line == 5)
        let arrivals = try TraceArrivals(table: table)
        #expect(arrivals.contacts.map(\.type) == ["billing, es", "tech"])
        #expect(!arrivals.hasPatience)
    }

    @Test func timesAreSecondsOrISO8601() {
        #expect(TraceTime("93.5") == .seconds(93.5))
        #expect(TraceTime("2026-03-02T00:00:00") == .timestamp(1_772_409_600))
        #expect(TraceTime("2026-03-02 00:00") == .timestamp(1_772_409_600))
        #expect(TraceTime("2026-03-02T08:00:00+02:00") == .timestamp(1_772_431_200))
        #expect(TraceTime("2024-02-29T08:00:00.250Z") == .timestamp(1_709_193_600.25))
        #expect(TraceTime("1999-01-01T00:00:00Z") == .timestamp(915_148_800))
        for bad in ["", "-5", "1e3", "nan", "2026-02-30T08:00:00", "2026-03-02T24:00:00", "2026-03-02", "08:00", "2026-03-02T08:00:00 +02"] {
            #expect(TraceTime(bad) == nil, "\(bad)")
        }
    }

    @Test func typesMapToQueuesAndSkills() throws {
        let built = try TraceRun.scenario(arrivals: TraceRun.table("arrival,handle_seconds,type\n0,1,es_billing\n0,1,new\n", "arrivals.csv"),
                                          types: TraceRun.table("type,skills,queue\nes_billing,billing>=3 lang:es,billing\nnew,,\n", "types.csv"))
        let arrivals = built.scenario.arrivals
        #expect(arrivals.map(\.queue) == ["billing", "new"])
        #expect(arrivals[0].requirements == [SkillRequirement("billing", atLeast: 3), SkillRequirement("lang:es", atLeast: 1)])
        #expect(arrivals[1].requirements.isEmpty)
        // Without a types file: a queue and a skill named like the type.
        let byName = try TraceRun.scenario(arrivals: TraceRun.table("arrival,handle_seconds,type,priority\n0,1,tech,HIGH\n", "arrivals.csv"))
        #expect(byName.scenario.arrivals[0].queue == "tech")
        #expect(byName.scenario.arrivals[0].requirements == [SkillRequirement("tech", atLeast: 1)])
        #expect(byName.scenario.arrivals[0].priority == .high)
    }

    @Test func shiftsStaffEachSlotAndAddUp() throws {
        let schedule = try ShiftSchedule(table: TraceRun.table("""
            start,skill,agents
            0,billing,2
            1800,billing,3
            1800,billing,1
            5400,billing,1
            0,tech=3 billing=2,1
            """, "shifts.csv"))
        #expect(schedule.groups.map(\.skills) == [["billing": 5], ["tech": 3, "billing": 2]])
        // 3 + 1 in the second slot; nobody in the third (no row); 1 in the fourth.
        #expect(schedule.headcounts(of: 0).map { [$0.at, Double($0.agents)] } == [[0, 2], [1800, 4], [3600, 0], [5400, 1], [7200, 0]])
        #expect(schedule.peak(of: 0) == 4)
    }

    @Test func badInputNamesFileLineAndColumn() {
        let header = "arrival,handle_seconds,type,priority,patience_seconds\n"
        #expect(refusal(arrivals: "arrival,type\n0,billing\n")
                == #"arrivals.csv:1: column "handle_seconds": missing from the header (it has: arrival, type)"#)
        #expect(refusal(arrivals: header + "0,100,billing,normal,\n5,1x0,billing,normal,\n")
                == #"arrivals.csv:3: column "handle_seconds": "1x0" is not a number of seconds (0 or more)"#)
        #expect(refusal(arrivals: header + "0,-1,billing,normal,\n")
                == #"arrivals.csv:2: column "handle_seconds": "-1" is not a number of seconds (0 or more)"#)
        #expect(refusal(arrivals: header + "0,100,billing,asap,\n")
                == #"arrivals.csv:2: column "priority": unknown priority "asap" (priorities: low, normal, high, urgent)"#)
        #expect(refusal(arrivals: header + "0,100,billing,normal,soon\n")
                == #"arrivals.csv:2: column "patience_seconds": "soon" is not a number of seconds (0 or more)"#)
        #expect(refusal(arrivals: header + "0,,billing,normal,\n")
                == #"arrivals.csv:2: column "handle_seconds": is empty on a contact that did not give up (no patience_seconds)"#)
        #expect(refusal(arrivals: header + "0,,billing,normal,30\n")
                == #"arrivals.csv:2: column "handle_seconds": is empty, and no contact of type "billing" has one to replay it with"#)
        #expect(refusal(arrivals: header + "0,100,,normal,\n") == #"arrivals.csv:2: column "type": is empty"#)
        #expect(refusal(arrivals: header + "2026-02-30T08:00:00,100,billing,normal,\n")
                == #"arrivals.csv:2: column "arrival": "2026-02-30T08:00:00" is neither seconds from the start nor an ISO-8601 timestamp (2024-03-04T08:00:00)"#)
        #expect(refusal(arrivals: header + "2026-03-02T08:00:00,100,billing,normal,\n60,100,billing,normal,\n")
                == #"arrivals.csv:3: column "arrival": "60" mixes forms: earlier rows give timestamps"#)
        #expect(refusal(arrivals: header) == "arrivals.csv:1: has no contacts")
        #expect(refusal(arrivals: "") == "arrivals.csv:1: empty: a header row is needed")
        #expect(refusal(arrivals: "arrival,type,Type\n") == #"arrivals.csv:1: column "type": named twice in the header"#)
    }

    @Test func badTypesAndShiftsNameFileLineAndColumn() {
        let arrivals = "arrival,handle_seconds,type\n0,100,billing\n0,100,tech\n"
        #expect(refusal(arrivals: arrivals, types: "type,skills\nbilling,billing\n")
                == #"arrivals.csv:3: column "type": unknown type "tech": types.csv maps billing"#)
        #expect(refusal(arrivals: arrivals, types: "type,skills\nbilling,billing=7\n")
                == #"types.csv:2: column "skills": "billing=7" has a level outside 1–5"#)
        #expect(refusal(arrivals: arrivals, types: "type,skills\nbilling,billing\nbilling,tech\n")
                == #"types.csv:3: column "type": "billing" is mapped twice"#)
        #expect(refusal(arrivals: arrivals, types: "type,queue\nbilling,billing\n")
                == #"types.csv:1: column "skills": missing from the header (it has: type, queue)"#)
        #expect(refusal(arrivals: arrivals, shifts: "start,skills,agents\n0,billing,two\n")
                == #"shifts.csv:2: column "agents": "two" is not a number of agents (0 or more)"#)
        #expect(refusal(arrivals: arrivals, shifts: "start,skills,agents\n0,,2\n")
                == #"shifts.csv:2: column "skills": is empty: which skills do these agents have?"#)
        #expect(refusal(arrivals: arrivals, shifts: "start,skills,agents\n2026-03-02T08:00:00,billing,2\n")
                == #"shifts.csv:2: column "start": gives timestamps but arrivals.csv gives seconds from the start; use one form in both"#)
    }
}
