import Foundation

/// The interface descriptions served by `org.varlink.service.GetInterfaceDescription`: ours from
/// the `.varlink` file shipped with the daemon, and the standard service interface.
enum ControlInterface {
    static func description(of interface: String) -> String? {
        switch interface {
        case "org.varlink.service": return service
        case ControlService.interface: return control
        default: return nil
        }
    }

    static let control: String = {
        guard let url = Bundle.module.url(forResource: "io.switchboard.Control", withExtension: "varlink"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            preconditionFailure("io.switchboard.Control.varlink is a resource of this module (Package.swift)")
        }
        return text
    }()

    /// The Varlink service interface, as the Varlink specification defines it.
    static let service = """
        # The Varlink Service Interface is provided by every varlink service. It
        # describes the service and the interfaces it implements.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()

        """
}
