"""Word lists the synthetic org draws names, titles and other values from."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaliyah Aaron Abigail Adam Adrian Aisha Alan Alejandro Alex Alice Amara Amelia Ana Andre Andrea "
    "Angela Anika Anna Anthony Arjun Ava Beatriz Ben Benjamin Bianca Brandon Brian Bruno Caleb Camila "
    "Carla Carlos Caroline Charlotte Chen Chloe Chris Claire Connor Daniel Daniela David Deepa Diana "
    "Diego Dmitri Elena Eli Elif Elijah Elizabeth Ella Emeka Emily Emma Eric Erin Ethan Eva Fatima "
    "Felix Fernando Fiona Gabriel Grace Hana Hannah Harper Hassan Henry Hiro Hugo Ibrahim Imani Isaac "
    "Isabella Ivan Jack Jacob James Jasmine Javier Jennifer Jessica Jin John Jonas Jose Joseph Joshua "
    "Julia Kai Karen Karim Kate Kevin Kofi Laura Layla Leah Leo Liam Lily Lina Logan Lucas Lucia Luis "
    "Maria Mark Marta Mateo Maya Mei Mia Michael Miguel Mohamed Nadia Naomi Nathan Nia Nicolas Nina "
    "Noah Olivia Omar Oscar Paul Pedro Priya Rachel Rafael Rahul Ravi Rebecca Ricardo Riley Rosa Ryan "
    "Samuel Sara Sean Sofia Sophie Stefan Sven Tanya Thomas Tomas Valentina Victor Wei William Yara "
    "Yusuf Zara Zoe"
).split()

LAST_NAMES = (
    "Abbott Acosta Adams Adeyemi Ahmed Ali Allen Alvarez Andersen Anderson Bailey Baker Banerjee Barnes "
    "Bauer Becker Bell Bennett Brooks Brown Bryant Campbell Carter Castillo Chan Chavez Chen Clark "
    "Coleman Collins Cook Cooper Cruz Das Davies Davis Diaz Dubois Dunn Edwards Evans Fernandes "
    "Fischer Fisher Flores Foster Garcia Gomez Gonzalez Gray Green Gupta Hall Hansen Harris Hayes "
    "Hernandez Hill Hoffmann Howard Hughes Ibrahim Ito Jackson James Jensen Johnson Jones Kaur Kelly "
    "Khan Kim Klein Kowalski Kumar Lambert Larsen Lee Lewis Li Lopez Martin Martinez Meyer Miller "
    "Mitchell Moore Morales Morgan Murphy Nakamura Nguyen Nielsen Novak Okafor Olsen Ortiz Park Patel "
    "Perez Peters Phillips Price Reed Reyes Richter Rivera Roberts Robinson Rodriguez Rossi Russo Sanchez "
    "Santos Sato Schmidt Schneider Scott Shah Silva Singh Smith Stewart Suzuki Tanaka Taylor Thomas "
    "Thompson Torres Turner Walker Wang Ward Watson Weber White Williams Wilson Wong Wright Yamamoto "
    "Young Zhang"
).split()

DEPARTMENTS = (
    "Customer Care", "Sales", "Billing", "Technical Support", "Collections", "Retention",
    "Quality Assurance", "Workforce Management", "Training", "IT", "Human Resources", "Finance",
    "Operations", "Marketing", "Back Office",
)

TITLES = (
    "Agent", "Senior Agent", "Agent", "Agent", "Team Lead", "Supervisor", "Contact Center Manager",
    "Quality Analyst", "Workforce Analyst", "Trainer", "Support Engineer", "Sales Representative",
    "Account Manager", "Billing Specialist", "Collections Specialist", "Retention Specialist",
    "Operations Manager", "Director of Customer Experience", "IT Administrator", "HR Partner",
    "Financial Analyst", "Marketing Specialist", "Back Office Clerk", "Escalation Specialist",
)

DIVISION_NAMES = (
    "Home", "North America", "EMEA", "APAC", "LATAM", "Back Office", "Outsourcer A", "Outsourcer B",
    "Sales Division", "Support Division",
)

SKILLS = (
    "Billing", "Technical Support", "Sales", "Retention", "Collections", "Escalations", "VIP",
    "Chat", "Email", "Social", "Callbacks", "Outbound", "Spanish Queue", "French Queue",
    "German Queue", "Mortgages", "Insurance", "Claims", "Returns", "Warranty", "Onboarding",
    "Product A", "Product B", "Product C", "Fraud", "Accessibility", "Enterprise", "SMB",
)

LANGUAGES = ("English", "Spanish", "French", "German", "Portuguese", "Italian", "Dutch", "Japanese",
             "Mandarin", "Arabic", "Hindi", "Polish")

LANGUAGE_TAGS = ("en-US", "en-US", "en-US", "en-GB", "es", "fr", "de", "pt-BR", "it", "nl", "ja")

LOCATIONS = ("Indianapolis HQ", "Raleigh Office", "Dublin Office", "Frankfurt Office", "Sydney Office",
             "Tokyo Office", "Sao Paulo Office", "Remote - US", "Remote - EU", "Manila Site")

ROLES = ("employee", "User", "Agent", "Supervisor", "Quality Evaluator", "Reporting",
         "Master Admin", "Admin", "Communicate - User", "Trusted External User")

PERMISSIONS_BY_ROLE = {
    "employee": ("directory:user:view", "directory:group:view"),
    "User": ("directory:user:view", "notifications:notification:view"),
    "Agent": ("routing:agent:view", "conversation:call:accept", "conversation:message:accept"),
    "Supervisor": ("analytics:conversationDetail:view", "routing:queue:view", "quality:evaluation:view"),
    "Quality Evaluator": ("quality:evaluation:add", "quality:evaluation:edit"),
    "Reporting": ("analytics:conversationAggregate:view", "analytics:userAggregate:view"),
    "Master Admin": ("*:*:*",),
    "Admin": ("directory:user:add", "directory:user:edit", "authorization:grant:add"),
    "Communicate - User": ("conversation:call:view",),
    "Trusted External User": ("directory:user:view",),
}

CERTIFICATIONS = ("PCI DSS", "HIPAA", "ITIL Foundation", "COPC", "CCXP", "Six Sigma Green Belt",
                  "Genesys Cloud Certified Professional", "First Aid")

PROFILE_SKILLS = ("Empathy", "De-escalation", "Excel", "SQL", "Python", "Coaching", "Negotiation",
                  "Troubleshooting", "Writing", "Public speaking", "Scheduling", "Forecasting")

INTERESTS = ("hiking", "chess", "cooking", "photography", "cycling", "reading", "gardening", "music",
             "running", "travel", "board games", "painting")

SCHOOLS = ("State University", "City College", "Technical Institute", "Community College",
           "Business School", "Open University")

FIELDS_OF_STUDY = ("Business Administration", "Communications", "Computer Science", "Psychology",
                   "Economics", "Linguistics")

EMPLOYEE_TYPES = ("Full-time", "Full-time", "Full-time", "Part-time", "Contractor", "Temporary")

ROUTING_STATUSES = ("OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING")

SYSTEM_PRESENCES = ("Available", "Away", "Busy", "Offline", "Meal", "Training", "Meeting", "Break",
                    "On Queue", "Idle")

GROUP_WORDS = ("Tier 1", "Tier 2", "Tier 3", "Night Shift", "Weekend", "Escalations", "Mentors",
               "Onboarding", "Champions", "Floor Walkers", "Coaches", "Pilot", "Bilingual", "VIP Desk")

TEAM_WORDS = ("Falcons", "Orcas", "Pumas", "Otters", "Herons", "Lynx", "Badgers", "Condors", "Wolves",
              "Foxes", "Owls", "Bison", "Cranes", "Jaguars", "Ravens", "Sharks", "Tigers", "Yaks", "Zebras")

COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Supplies", "Wayne Logistics",
             "Hooli", "Vandelay Industries", "Soylent Foods", "Tyrell Systems", "Cyberdyne Retail",
             "Wonka Confectionery", "Oceanic Travel", "Massive Dynamic", "Nakatomi Trading")
