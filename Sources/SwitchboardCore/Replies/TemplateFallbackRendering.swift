/// A queue's fallback template as it goes out: its parameters' variables filled in when it is sent
/// (as a canned response's are), and the text the customer will read, for the agent to confirm.
extension AutomationConfiguration.TemplateFallback {
    public struct Rendered: Sendable, Equatable {
        public var parameters: [String]
        /// The template's text with the parameters in place.
        public var preview: String
    }

    public func rendered(customerName: String?, agentName: String?, reference: String) -> Rendered {
        let values = ["customer.name": customerName ?? "", "agent.name": agentName ?? "", "ticket.reference": reference]
        let parameters = self.parameters.map { TextVariables.render($0, values: values) }
        return Rendered(parameters: parameters, preview: template.filled(parameters))
    }
}

extension MessageTemplate {
    /// The body text with `{{1}}`, `{{2}}`… replaced by the parameters (a placeholder without one
    /// is left as written).
    public func filled(_ parameters: [String]) -> String {
        var result = "", rest = Substring(text)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let inside = rest[open.upperBound..<close.lowerBound]
            if let number = Int(inside), number >= 1, number <= parameters.count {
                result += parameters[number - 1]
            } else {
                result += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        return result + rest
    }
}
