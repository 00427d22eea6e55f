"""OA records: organisation (users, departments, groups), and the office artefacts around them."""
