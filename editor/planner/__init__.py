"""The editor side of the planner (issue 18): the accepted plan as ONE undo
step (``plan_command``) and the Describe panel (``DescribePanel``)."""
