"""Pure Kinvey protocol knowledge: error bodies, routes, the version header."""
